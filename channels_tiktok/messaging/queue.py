"""Delivery at the next window: a send with `"when_closed": "queue"` to a client whose window is closed or used
up is kept (`QueuedSend`) and sent, in order, as soon as the client writes again, before the bot hears of the
new message, and only within the new window's ten messages (the excess waits for the window after). A queued
message can be cancelled, and expires after `TIKTOK_QUEUED_MESSAGE_TTL_DAYS` (`message.expired`).

"Before the bot hears": the inbound flow registers `flush_after_commit` before it writes any bot event, so the
flush runs first among the commit's callbacks and the events' pushes are only queued after it (a push chains to
the client's next events, so none of this commit's events is pushed before the flush is done). Not covered: a
bot reading the pull feed during the flush, or a push of an older event of the same client already in flight.
The flush runs after the commit rather than inside the transaction so that a rolled-back batch never sends a
message twice. The periodic task flushes too (`flush_open`), for a flush cut short by a restart.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels_tiktok.messaging import outbound, rules, send, window, window_events
from channels_tiktok.models import Conversation, QueuedSend
from clients import events
from clients.models import BotEvent, Client

logger = logging.getLogger(__name__)

QUEUE, REFUSE = "queue", "refuse"
WHEN_CLOSED = (REFUSE, QUEUE)
BATCH = 500
# Refusals that mean "no room in this window": the message stays queued for the window after.
NO_ROOM = frozenset({*rules.CONVERSATION_CODES, *rules.SLOT_CODES})


def ttl() -> dt.timedelta:
    return dt.timedelta(days=settings.TIKTOK_QUEUED_MESSAGE_TTL_DAYS)


def should_queue(client: Client) -> bool:
    """A queued send is kept when the client has a conversation whose window is closed or used up."""
    verdict = window.verdict(Conversation.objects.filter(client=client).first())
    return verdict.state in (rules.WINDOW_CLOSED, rules.WINDOW_USED_UP)


def enqueue(
    *, client: Client, text: str, buttons: list[rules.Button], image_url: str, text_fallback: bool
) -> QueuedSend:
    return QueuedSend.objects.create(
        client=client,
        text=text,
        buttons=[{"type": b.type, "text": b.text, "url": b.url} for b in buttons],
        image_url=image_url,
        text_fallback=text_fallback,
        expires_at=timezone.now() + ttl(),
    )


def pending(client: Client) -> list[QueuedSend]:
    return list(QueuedSend.objects.filter(client=client, status=QueuedSend.Status.PENDING).order_by("id"))


def cancel(queued: QueuedSend) -> bool:
    """Cancel a message still waiting; False when it was sent, expired or cancelled meanwhile."""
    return bool(
        QueuedSend.objects.filter(pk=queued.pk, status=QueuedSend.Status.PENDING).update(
            status=QueuedSend.Status.CANCELLED, finished_at=timezone.now()
        )
    )


def flush(client_id: int) -> int:
    """Send the client's queued messages in order while the window has room; returns how many went out."""
    sent = 0
    for queued in QueuedSend.objects.filter(client_id=client_id, status=QueuedSend.Status.PENDING).order_by("id"):
        claimed = QueuedSend.objects.filter(
            pk=queued.pk, status=QueuedSend.Status.PENDING, expires_at__gt=timezone.now()
        )
        if not claimed.update(status=QueuedSend.Status.SENDING):
            break  # another worker is flushing this client (or it expired): keep the order, stop here
        try:
            message = send.send_message(
                client=queued.client,
                text=queued.text,
                buttons=[rules.Button(b["type"], b["text"], b.get("url", "")) for b in queued.buttons],
                image=send.ImageSource(url=queued.image_url) if queued.image_url else None,
                text_fallback=queued.text_fallback,
            )
        except outbound.OutboundError as exc:
            if exc.code in NO_ROOM or isinstance(exc, outbound.SendRateLimitedError):
                QueuedSend.objects.filter(pk=queued.pk).update(status=QueuedSend.Status.PENDING)
                break  # the window after gets it
            QueuedSend.objects.filter(pk=queued.pk).update(
                status=QueuedSend.Status.FAILED, error_code=exc.code, finished_at=timezone.now()
            )
            logger.info("tiktok.queue.failed", extra={"queued": queued.pk, "code": exc.code})
            continue
        QueuedSend.objects.filter(pk=queued.pk).update(
            status=QueuedSend.Status.SENT, message=message, finished_at=timezone.now()
        )
        sent += 1
    return sent


def flush_many(client_ids: Iterable[int]) -> None:
    for client_id in client_ids:
        try:
            flush(client_id)
        except Exception:  # one client's trouble must not keep the others' messages
            logger.exception("tiktok.queue.flush_error", extra={"client_id": client_id})


def flush_after_commit(waiting: list[int]) -> None:
    """Called by the inbound flow for clients whose window just opened and who have queued messages (it reads
    that in its transaction, with the rest of the clients' state: webhooks/client_state.py): the flush runs at
    commit, before the pushes of the bot events written after this call."""
    if waiting:
        transaction.on_commit(functools.partial(flush_many, sorted(waiting)))


def flush_open(*, now: dt.datetime | None = None) -> int:
    """The periodic catch-up: queued messages of clients whose window has room now."""
    now = now or timezone.now()
    clients = (
        QueuedSend.objects.filter(status=QueuedSend.Status.PENDING, expires_at__gt=now)
        .filter(client__tiktok_conversation__last_inbound_at__gt=now - rules.WINDOW)
        .values_list("client_id", flat=True)
        .distinct()[:BATCH]
    )
    ids = list(clients)
    flush_many(ids)
    return len(ids)


def expire_due(*, now: dt.datetime | None = None) -> int:
    """Queued messages past their time: expired, each with one `message.expired` event."""
    now = now or timezone.now()
    expired = 0
    due = QueuedSend.objects.filter(status=QueuedSend.Status.PENDING, expires_at__lte=now).select_related(
        "client__channel__project", "client__tiktok_conversation__account"
    )
    for queued in due.order_by("expires_at")[:BATCH]:
        with transaction.atomic():
            claimed = QueuedSend.objects.filter(pk=queued.pk, status=QueuedSend.Status.PENDING).update(
                status=QueuedSend.Status.EXPIRED, finished_at=now
            )
            if not claimed:
                continue
            client = queued.client
            conversation = getattr(client, "tiktok_conversation", None)
            events.emit(
                project=client.channel.project,
                event_type=BotEvent.Type.MESSAGE_EXPIRED,
                dedupe_key=f"tiktok:queued:{queued.pk}:expired",
                account=window_events.account_part(conversation.account) if conversation else {},
                channel=client.channel,
                client=client,
                text=queued.text,
                data={"queued_id": queued.pk, "queued_at": queued.created_at.isoformat(), "status": "expired"},
            )
            expired += 1
    return expired
