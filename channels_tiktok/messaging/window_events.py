"""The bot is told about its clients' messaging windows: `window.closing` a set time before a window ends,
`window.closed` when it ends (time up with messages left, or all ten used), `window.opened` when the client
writes again after that (written by the inbound flow, `opened_event`).

Exactly once per window, across restarts and with any number of workers: each event first claims its window
with a conditional UPDATE of a per-conversation marker (the window's start, `last_inbound_at`, the event was sent
for) and is written in the same transaction; its dedupe key names the window too
(`tiktok:window:<conversation>:<window start>:<kind>`), so even a replayed claim yields one stored event.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.messaging.rules import WINDOW, window_verdict
from channels_tiktok.models import Conversation, TikTokAccount
from clients import events
from clients.models import BotEvent

logger = logging.getLogger(__name__)

BATCH = 500
# Windows that ended longer ago than this are not announced any more (the scheduler was down, or the feature
# was just deployed): the bot would learn of them too late to matter.
CLOSED_LOOKBACK = dt.timedelta(hours=24)

CLOSING, CLOSED, OPENED = "closing", "closed", "opened"
REASON_EXPIRED, REASON_EXHAUSTED = "expired", "exhausted"


def closing_lead() -> dt.timedelta:
    return dt.timedelta(minutes=settings.TIKTOK_WINDOW_CLOSING_LEAD_MINUTES)


def dedupe_key(conversation_pk: int, window_start: dt.datetime, kind: str) -> str:
    return f"tiktok:window:{conversation_pk}:{window_start.isoformat()}:{kind}"


def account_part(account: TikTokAccount) -> dict:
    return {"id": account.pk, "business_id": account.business_id, "username": account.username}


def _window_start(conversation: Conversation) -> dt.datetime:
    """The start of the current window: every conversation here has one (`_candidates` selects on it)."""
    assert conversation.last_inbound_at is not None
    return conversation.last_inbound_at


def window_data(conversation: Conversation, *, now: dt.datetime) -> dict:
    start = _window_start(conversation)
    verdict = window_verdict(start, conversation.window_sent, now=now)
    return {
        "conversation_id": conversation.conversation_id,
        "window_started_at": start.isoformat(),
        "expires_at": (start + WINDOW).isoformat(),
        "messages_left": verdict.messages_left,
    }


def _not_sent(marker: str, window_start: F | dt.datetime) -> Q:
    return Q(**{f"{marker}__isnull": True}) | Q(**{f"{marker}__lt": window_start})


def _claim(conversation: Conversation, marker: str, *, extra: Q | None = None) -> bool:
    """Mark `conversation`'s current window as announced by `marker`; True for the one caller that did."""
    rows = Conversation.objects.filter(pk=conversation.pk, last_inbound_at=conversation.last_inbound_at)
    rows = rows.filter(_not_sent(marker, _window_start(conversation)))
    if extra is not None:
        rows = rows.filter(extra)
    return bool(rows.update(**{marker: conversation.last_inbound_at}))


def _emit(conversation: Conversation, kind: str, event_type: str, data: dict) -> BotEvent:
    client = conversation.client
    return events.emit(
        project=client.channel.project,
        event_type=event_type,
        dedupe_key=dedupe_key(conversation.pk, _window_start(conversation), kind),
        account=account_part(conversation.account),
        channel=client.channel,
        client=client,
        data=data,
    )


def _candidates(query: Q, marker: str) -> list[Conversation]:
    return list(
        Conversation.objects.filter(query)
        .filter(_not_sent(marker, F("last_inbound_at")))
        .select_related("client__channel__project", "account")
        .order_by("last_inbound_at")[:BATCH]
    )


def emit_closing(*, now: dt.datetime) -> int:
    """`window.closing` for open windows with messages left that end within the lead time."""
    query = Q(
        last_inbound_at__gt=now - WINDOW,
        last_inbound_at__lte=now - WINDOW + closing_lead(),
        window_sent__lt=constants.WINDOW_MAX_MESSAGES,
    )
    sent = 0
    for conversation in _candidates(query, "closing_sent_for"):
        with transaction.atomic():
            if not _claim(conversation, "closing_sent_for", extra=Q(window_sent__lt=constants.WINDOW_MAX_MESSAGES)):
                continue
            conversation.refresh_from_db(fields=["window_sent"])
            _emit(conversation, CLOSING, BotEvent.Type.WINDOW_CLOSING, window_data(conversation, now=now))
            sent += 1
    return sent


def emit_closed(*, now: dt.datetime) -> int:
    """`window.closed` for windows that ended: time up (recently), or all messages used."""
    expired = Q(last_inbound_at__lte=now - WINDOW, last_inbound_at__gt=now - WINDOW - CLOSED_LOOKBACK)
    exhausted = Q(last_inbound_at__gt=now - WINDOW, window_sent__gte=constants.WINDOW_MAX_MESSAGES)
    sent = 0
    for conversation in _candidates(expired | exhausted, "closed_sent_for"):
        with transaction.atomic():
            if not _claim(conversation, "closed_sent_for"):
                continue
            conversation.refresh_from_db(fields=["window_sent"])
            data = window_data(conversation, now=now)
            used_up = conversation.window_sent >= constants.WINDOW_MAX_MESSAGES
            data["reason"] = REASON_EXHAUSTED if used_up else REASON_EXPIRED
            data["messages_left"] = 0 if used_up else constants.WINDOW_MAX_MESSAGES - conversation.window_sent
            _emit(conversation, CLOSED, BotEvent.Type.WINDOW_CLOSED, data)
            sent += 1
    return sent


def emit_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic task's work: every window event that is due, each once."""
    now = now or timezone.now()
    counts = {"closing": emit_closing(now=now), "closed": emit_closed(now=now)}
    if any(counts.values()):
        logger.info("tiktok.window_events", extra=counts)
    return counts


def previous_window(last_inbound_at: dt.datetime | None, window_sent: int, *, at: dt.datetime) -> str | None:
    """How the window stood when a client message arrived at `at`: `none`, `closed`, `exhausted`, or None when
    it was still open (a message within an open window just renews it: no `window.opened`)."""
    verdict = window_verdict(last_inbound_at, window_sent, now=at)
    if verdict.open:
        return None
    return {"none": "none", "closed": "closed", "used_up": "exhausted"}[verdict.state]


def opened_data(conversation_id: str, *, window_start: dt.datetime, previous: str) -> dict:
    return {
        "conversation_id": conversation_id,
        "window_started_at": window_start.isoformat(),
        "expires_at": (window_start + WINDOW).isoformat(),
        "messages_left": constants.WINDOW_MAX_MESSAGES,
        "previous": previous,
    }
