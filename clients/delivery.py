"""Push delivery of bot events to the project's callback URL: signed, retried with backoff for 24 hours.

Guarantees:
- at least once: a row stays `pending` until a 2xx is recorded; a lost task is re-queued by `sweep`;
- one attempt at a time per event: a worker claims the row with a conditional UPDATE (a lease) before it
  POSTs, so duplicate tasks (the sweeper and the original enqueue, two sweepers) never POST concurrently;
- per-client order: an event is not pushed while an older event of the same client is still pending; when an
  event is settled (delivered or given up) the client's next pending event is pushed right after, by the same
  task (a burst of one client's events goes out back to back, up to `CHAIN_LIMIT`, then in a new task). The
  sweeper queues due events oldest first.
Pushes reuse one HTTP connection per worker thread and callback host (keep-alive).
The bot deduplicates by `X-Event-Id` (a 2xx lost on the way back makes us push again).
"""

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator

import requests
import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from . import deadline, netguard, retention
from .models import BotEvent, DeliveryAttempt

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
RETRY_PERIOD = dt.timedelta(hours=24)
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
# Longer than one POST with its timeout: a claimed row is not claimed again while its POST may be running.
CLAIM_LEASE = dt.timedelta(seconds=TIMEOUT_SECONDS * 6)
SWEEP_BATCH = 500
EXCERPT_CHARS = 2000
SIGNATURE_HEADER = "X-Signature"
EVENT_ID_HEADER = "X-Event-Id"
# How many of one client's events a task pushes back to back before it leaves the rest to a new task.
CHAIN_LIMIT = 50

_local = threading.local()


def _session() -> requests.Session:
    """This thread's HTTP session: its connections to callback URLs stay open between pushes."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = deadline.session()
    return session


def signature_header(*, body: bytes, secret: str, timestamp: int) -> str:
    """`t=<unix>,s=<hex HMAC-SHA256 of "t." + body>` — the same scheme TikTok uses towards us."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def serialize(event: BotEvent) -> bytes:
    return json.dumps(event.body, ensure_ascii=False, separators=(",", ":")).encode()


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def enqueue(event_id: int) -> None:
    """Queue one delivery; a broker failure is logged and left to the sweeper (the row stays pending)."""
    from . import tasks

    try:
        tasks.deliver_bot_event.delay(event_id)
    except Exception:  # whatever the broker raises, the outbox row is the source of truth
        logger.warning("bot_event.enqueue_failed", extra={"bot_event": event_id}, exc_info=True)


def _next_of_client(event: BotEvent) -> int | None:
    if event.client_id is None:
        return None
    return (
        BotEvent.objects.filter(client_id=event.client_id, status=BotEvent.DeliveryStatus.PENDING, id__gt=event.pk)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )


def _refused_target(url: str) -> str:
    """Why the callback URL may not be pushed to now ("" when it may): it was checked when saved, but its host
    may resolve elsewhere since. A host that does not resolve is left to the POST, which fails the same way."""
    try:
        netguard.check_url(url, allowed_hosts=settings.CALLBACK_ALLOWED_HOSTS)
    except netguard.UnsafeURLError as exc:
        if exc.reason != "unresolvable":
            logger.warning("bot_event.delivery.url_refused", extra={"reason": exc.reason})
            return f"callback URL refused: {exc.message}"
    return ""


def _post(event: BotEvent, body: bytes) -> DeliveryAttempt:
    """One POST of the event; the attempt is returned unsaved (the caller writes it with the event's outcome)."""
    project = event.project
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(body=body, secret=project.callback_secret, timestamp=int(time.time())),
        EVENT_ID_HEADER: str(event.uuid),
    }
    attempt = DeliveryAttempt(event=event, url=project.callback_url)
    started = time.monotonic()
    refusal = _refused_target(project.callback_url)
    if refusal:
        attempt.error = refusal
        return attempt
    try:
        # TIMEOUT_SECONDS bounds the whole push (a bot answering a byte at a time cannot hold a worker), and only
        # the start of the answer is read. The thread's session keeps its connection to the bot open between pushes.
        with deadline.Deadline(TIMEOUT_SECONDS) as limit:
            response = _session().post(
                project.callback_url,
                data=body,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,
            )
            try:
                answer = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
            finally:
                response.close()
            if limit.expired:
                raise requests.Timeout(f"no complete answer within {TIMEOUT_SECONDS} s")
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]
    else:
        attempt.response_status = response.status_code
        text = answer.decode(response.encoding or "utf-8", errors="replace").replace("\x00", "\ufffd")
        attempt.response_body = text[:EXCERPT_CHARS]  # PostgreSQL's text holds no NUL
        if not 200 <= response.status_code < 300:
            attempt.error = f"HTTP {response.status_code}"
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    return attempt


@contextlib.contextmanager
def _bookkeeping() -> Iterator[None]:
    """A transaction of the push's own bookkeeping (the claim, the attempt and the outcome) whose commit does not
    wait for PostgreSQL's disk flush (`synchronous_commit` off for it alone). A crash of the database server may
    lose the last fraction of a second of such commits, never part of one: the event is then pending or
    claimed again and pushed once more, which at-least-once delivery allows (the bot deduplicates by
    X-Event-Id). The event itself was written durably when it was created. A flush costs a few tenths of a
    millisecond, and now and then a few hundred: a push no longer waits for three of them."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def deliver(*, event_id: int) -> BotEvent | None:
    """Push a pending event if it is due and no older event of its client is waiting, then the client's next
    ones; returns the first event (as it was loaded, its status updated)."""
    first = None
    for _ in range(CHAIN_LIMIT):
        event, next_id = _deliver_one(event_id)
        first = first or event
        if next_id is None:
            return first
        event_id = next_id
    enqueue(event_id)
    return first


def _deliver_one(event_id: int) -> tuple[BotEvent | None, int | None]:
    """One push attempt of a pending event; returns it and, once it is settled, its client's next pending event."""
    event = BotEvent.objects.select_related("project").filter(pk=event_id).first()
    if event is None or event.status != BotEvent.DeliveryStatus.PENDING:
        return event, None
    if not event.project.callback_url:
        BotEvent.objects.filter(pk=event.pk).update(status=BotEvent.DeliveryStatus.NOT_PUSHED, next_attempt_at=None)
        return event, None
    now = timezone.now()
    older_pending = BotEvent.objects.filter(
        client_id=OuterRef("client_id"), status=BotEvent.DeliveryStatus.PENDING, id__lt=OuterRef("id")
    )
    # One statement claims the row (a lease) if it is due and no older event of its client is pending.
    with _bookkeeping():
        claimed = (
            BotEvent.objects.filter(pk=event.pk, status=BotEvent.DeliveryStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .exclude(Exists(older_pending))
            .update(next_attempt_at=now + CLAIM_LEASE)
        )
    if not claimed:
        # Another worker holds it, its next attempt is not due yet, or an older event of its client comes first
        # (that one's settling pushes this one).
        return event, None
    attempt = _post(event, serialize(event))
    now = timezone.now()
    changes: dict = {"attempts": F("attempts") + 1}
    if not attempt.error:
        changes.update(status=BotEvent.DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
        logger.info("bot_event.delivered", extra={"bot_event": event.pk, "duration_ms": attempt.duration_ms})
    elif now - event.created_at >= RETRY_PERIOD:
        changes.update(status=BotEvent.DeliveryStatus.FAILED, next_attempt_at=None)
        logger.warning("bot_event.delivery.gave_up", extra={"bot_event": event.pk, "error": attempt.error})
    else:
        changes.update(next_attempt_at=now + backoff(event.attempts + 1))
        logger.info("bot_event.delivery.retry_later", extra={"bot_event": event.pk, "error": attempt.error})
    with _bookkeeping():
        attempt.save()
        BotEvent.objects.filter(pk=event.pk).update(**changes)
    event.attempts += 1
    event.status = changes.get("status", event.status)
    event.delivered_at = changes.get("delivered_at", event.delivered_at)
    event.next_attempt_at = changes.get("next_attempt_at", event.next_attempt_at)
    if event.status == BotEvent.DeliveryStatus.PENDING:
        return event, None
    return event, _next_of_client(event)


def redeliver(*, event: BotEvent) -> None:
    """Staff's "re-deliver": make the event due now and queue it (one more attempt even after 24 hours)."""
    BotEvent.objects.filter(pk=event.pk).update(status=BotEvent.DeliveryStatus.PENDING, next_attempt_at=timezone.now())
    transaction.on_commit(functools.partial(enqueue, event.pk))


def sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Queue every pending event that is due (lost tasks, retries after backoff), oldest first.

    Safe to run concurrently with itself and with workers: a queued duplicate finds the row claimed and stops.
    Pages by id, so each due row is queued once per run even while workers have not claimed it yet.
    """
    now = now or timezone.now()
    due = BotEvent.objects.filter(status=BotEvent.DeliveryStatus.PENDING, next_attempt_at__lte=now).order_by("id")
    total = 0
    last_id = 0
    while True:
        ids = list(due.filter(id__gt=last_id).values_list("pk", flat=True)[:batch])
        for event_id in ids:
            enqueue(event_id)
        total += len(ids)
        if len(ids) < batch:
            break
        last_id = ids[-1]
    if total:
        logger.info("bot_event.sweep.queued", extra={"count": total})
    return total


def prunable(now: dt.datetime) -> QuerySet | None:
    """The bot events that are done (delivered, given up, or pull only) and were created more than
    BOT_EVENT_RETENTION_DAYS before `now`; None when bot events are kept forever. Pending events are never among
    them. The pull feed no longer serves what is deleted: a bot that pulls must read within the retention."""
    before = retention.cutoff(now, settings.BOT_EVENT_RETENTION_DAYS)
    if before is None:
        return None
    return BotEvent.objects.filter(
        status__in=[
            BotEvent.DeliveryStatus.DELIVERED,
            BotEvent.DeliveryStatus.FAILED,
            BotEvent.DeliveryStatus.NOT_PUSHED,
        ],
        created_at__lt=before,
    )


def prune(*, now: dt.datetime | None = None, budget_seconds: float = retention.TIME_BUDGET_SECONDS) -> int:
    """Delete the `prunable` events with their delivery attempts, within the time budget; returns how many events
    went (the beat's schedule, and `manage.py prune_retention`)."""
    return retention.prune(prunable(now or timezone.now()), event="bot_event.pruned", budget_seconds=budget_seconds)
