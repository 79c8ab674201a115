"""pytest fixtures that start the TikTok sandbox on a free port (filled in by the sandbox work)."""
