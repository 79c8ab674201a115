"""Desktop-safe buttons: TikTok Desktop does not show button cards, so a card can also list its buttons as
text ("1 — Tacos, 2 — Burritos"), and a client's typed reply that names a button of the last such card sent
to them reaches the bot as a tap of that button (`button_id` set, `data.matched_from_text: true`).

The rules (the text, the limit, the matching) are pure and live in `rules.py`; this module applies them to
stored messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet

from channels_tiktok import constants
from channels_tiktok.messaging import fallback_rules, rules
from clients.models import Message

PAYLOAD_FLAG = "text_fallback"  # in a sent card's payload: its text listed the buttons


def shown_text(text: str, buttons: Sequence[rules.Button], *, enabled: bool) -> str:
    """What the card's text will be: with the buttons listed when enabled and the card has callback buttons."""
    return fallback_rules.fallback_text(text, tuple(buttons)) if enabled and buttons else text


@dataclass(frozen=True)
class Tap:
    """A typed reply read as a tap: the button's id, its text, and the card's TikTok message id."""

    button_id: str
    text: str
    card_external_id: str


def last_cards(client_id: int | OuterRef) -> QuerySet[Message]:
    """The button cards sent to the client, newest first (through the client's newest-first index): the first is
    the one a typed reply is matched against. `client_id` may be an OuterRef (a subquery)."""
    return (
        Message.objects.filter(Q(client_id=client_id), direction=Message.Direction.OUTBOUND, kind=Message.Kind.BUTTONS)
        .exclude(status=Message.Status.FAILED)
        .order_by("-id")
    )


def may_be_tap(typed: str) -> bool:
    """Whether a typed reply could name a button at all (then the last card is worth reading)."""
    return bool(typed.strip()) and len(typed) <= constants.MAX_CALLBACK_BUTTON_TEXT + 10


def tap_in(payload: dict | None, card_external_id: str, typed: str) -> Tap | None:
    """The tap a typed reply stands for, if it names a callback button of the last fallback card sent to the
    client (the first of `last_cards`, read by the caller: its payload and TikTok's message id); None: ordinary text."""
    payload = payload or {}
    if not may_be_tap(typed) or not payload.get(PAYLOAD_FLAG):
        return None
    buttons = [b for b in payload.get("buttons", []) if b.get("type") == rules.BUTTON_CALLBACK]
    index = fallback_rules.match_button(typed, [b.get("text", "") for b in buttons])
    if index is None:
        return None
    button = buttons[index]
    return Tap(button_id=button["id"], text=button["text"], card_external_id=card_external_id)
