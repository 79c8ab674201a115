"""The readable `text` the bot gets for a message that has no text of its own (an image, a sticker, ...).

Defaults are translated (`[sticker]`, `[video]`, ...); the setting `TIKTOK_MESSAGE_PLACEHOLDERS` (kind → text)
overrides any of them, for example `{"sticker": "🧸"}`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

DEFAULTS = {
    "image": _("[image]"),
    "video": _("[video]"),
    "sticker": _("[sticker]"),
    "emoji": _("[emoji]"),
    "template": _("[template message]"),
    "other": _("[message of another type]"),
}


def placeholder(kind: str) -> str:
    """The text of a message of `kind` without text of its own; never empty."""
    configured = getattr(settings, "TIKTOK_MESSAGE_PLACEHOLDERS", None) or {}
    text = configured.get(kind) or DEFAULTS.get(kind) or DEFAULTS["other"]
    return str(text)
