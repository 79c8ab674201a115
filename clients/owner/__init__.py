"""The owner's pages that belong to no channel: logging in and out, the project's API keys."""
