"""The desktop fallback of button cards as pure rules (TikTok Desktop does not show button cards): the card's text
can also list its buttons, and a typed number or title then counts as a tap. Plain data in, plain data out."""

from __future__ import annotations

import re
import unicodedata

from channels_tiktok import constants
from channels_tiktok.messaging.rules import BUTTON_CALLBACK, Button, OutgoingMessage, Violation, _violation

FALLBACK_SEPARATOR = "\n"


def fallback_line(buttons: tuple[Button, ...] | list[Button]) -> str:
    """`1 — Tacos, 2 — Burritos` for the callback buttons ("" when there are none: url cards open a link)."""
    return ", ".join(f"{n} — {b.text}" for n, b in enumerate(buttons, 1) if b.type == BUTTON_CALLBACK)


def fallback_text(text: str, buttons: tuple[Button, ...] | list[Button]) -> str:
    """The card's text with the buttons listed after it: what a desktop client reads."""
    line = fallback_line(buttons)
    return f"{text}{FALLBACK_SEPARATOR}{line}" if line else text


def check_fallback(message: OutgoingMessage) -> list[Violation]:
    """The fallback counts against the card's text limit; reported once, when the text alone fits."""
    if not message.buttons or len(message.text) > constants.MAX_TEXT_WITH_BUTTONS:
        return []
    if len(fallback_text(message.text, message.buttons)) > constants.MAX_TEXT_WITH_BUTTONS:
        return [_violation("text_too_long_with_fallback", "text")]
    return []


def normalized(text: str) -> str:
    """For comparing a typed reply with a button title: case, accents (é, ñ, ё, й) and punctuation around it do
    not matter; inner spaces are collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r"\s+", " ", bare).strip(" .,!?¡¿;:'\"«»()-—")


def match_button(typed: str, titles: list[str]) -> int | None:
    """The index of the button a typed reply names, by its number (1-based) or its title; None: plain text."""
    wanted = normalized(typed)
    if not wanted:
        return None
    if wanted.isascii() and wanted.isdigit():
        number = int(wanted)
        return number - 1 if 1 <= number <= len(titles) else None
    matches = [i for i, title in enumerate(titles) if normalized(title) == wanted]
    return matches[0] if len(matches) == 1 else None
