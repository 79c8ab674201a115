"""The TikTok part of the bot builder's API: send adapter, comment replies, the validation dry run."""
