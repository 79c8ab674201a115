"""The staff console for TikTok, one module per area."""

from channels_tiktok.admin import accounts, conversations, journal

__all__ = ["accounts", "conversations", "journal"]
