"""The staff console for TikTok, one module per area."""

from . import accounts, conversations, journal

__all__ = ["accounts", "conversations", "journal"]
