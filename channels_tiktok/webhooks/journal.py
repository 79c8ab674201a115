"""The webhook journal (B2, B3): store a verified delivery first, process it later from the stored row.

- `record_delivery` is the receiver's only database work: one INSERT … ON CONFLICT DO NOTHING (intake/insert.py),
  shared with the deliveries other threads of the process journal at the same moment (intake/group_commit.py).
  The unique `dedupe_key` makes duplicate
  deliveries collapse into one row (the others are answered 200 like the first). It returns once the row is
  committed; processing is queued after the commit, off the request's path: the process's wake-up thread
  (intake/wakeups.py) queues a task for the rows of the last few milliseconds unless one is on its way
  (`enqueue_processing`, intake/lanes.py). Without a broker (`make run`) that task runs in the wake-up thread
  itself, so the dev server answers as production does.
- Processing is processing.py: one path, a worker task draining every pending row in batches.
- `sweep` re-queues rows whose task was lost (pending past their lease) or whose retry is due (failed); `prune`
  deletes finished rows past their retention; `replay` is staff's re-run of a row.
"""

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Mapping
from typing import cast

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import processing, wire
from channels_tiktok.webhooks.intake import insert, lanes
from channels_tiktok.webhooks.intake.group_commit import GroupCommit
from channels_tiktok.webhooks.intake.wakeups import Wakeups
from channels_tiktok.webhooks.processing import PROCESSING_LEASE
from clients import retention

Status = WebhookEvent.Status

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500
STORED_HEADERS = ("Content-Type", "User-Agent", constants.SIGNATURE_HEADER)

# Each stored header with its WSGI environ key (CONTENT_TYPE has no HTTP_ prefix).
_STORED_META = tuple(
    (name, key if key == "CONTENT_TYPE" else f"HTTP_{key}")
    for name, key in ((name, name.upper().replace("-", "_")) for name in STORED_HEADERS)
)


def stored_headers(meta: Mapping[str, str]) -> dict[str, str]:
    """The STORED_HEADERS of a request, read from its WSGI environ (cheaper than building `request.headers`)."""
    return {name: meta[key] for name, key in _STORED_META if key in meta}


# ------------------------------------------------------------------------------------------------ record
def record_delivery(*, body: bytes, headers: Mapping[str, str]) -> tuple[int | None, bool]:
    """Journal one verified delivery. Returns (row id, created); a duplicate gives (None, False).

    Returns once the row is committed: with the deliveries other threads of this process journal at the same
    moment, in one INSERT and one commit (group commit; alone, at once); processing is queued after the commit
    (within TIKTOK_WEBHOOK_WAKEUP_SECONDS, by the wake-up thread), so a worker always finds the row. Inside a
    caller's transaction the row joins it instead, and processing is queued when that commits."""
    now = timezone.now()
    fields = _fields_from(body, now)
    values = {
        "received_at": now,
        # NUL cannot be stored in PostgreSQL text; a body with one is malformed and kept for staff only.
        "raw_body": body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        "headers": {name: headers[name] for name in STORED_HEADERS if name in headers},
        **fields,
    }
    if connections[router.db_for_write(WebhookEvent)].in_atomic_block:
        [event_id] = insert.insert([values])
        if event_id is not None and fields["status"] == Status.PENDING:
            transaction.on_commit(functools.partial(enqueue_processing, [event_id]))
    else:
        event_id = _intake.submit(values)
    if event_id is None:
        logger.debug("tiktok.webhook.duplicate", extra={"dedupe_key": fields["dedupe_key"]})
        return None, False
    logger.debug(
        "tiktok.webhook.stored",
        extra={"webhook_event": event_id, "event": fields.get("event", ""), "status": fields["status"]},
    )
    return event_id, True


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _may_hold_nul(body: bytes, envelope: wire.Envelope) -> bool:
    """False when no parsed value can hold NUL, without walking them: JSON text carries NUL only as a `\\u0000`
    escape, in the body itself or (escaped once more) inside the `content` string. True sends the delivery to the
    exact check, `_has_nul`."""
    if b"\\u0000" in body:
        return True
    content = envelope.raw.get("content")
    return isinstance(content, str) and "\\u0000" in content


_DEDUPE_KEY_CHARS = cast(int, WebhookEvent._meta.get_field("dedupe_key").max_length)


def _bounded_key(key: str) -> str:
    """The key as the column can hold it: an id longer than any TikTok sends is hashed, not refused (a refused
    INSERT would answer 500 to every one of TikTok's retries)."""
    return key if len(key) <= _DEDUPE_KEY_CHARS else f"sha256:{wire.body_hash(key.encode())}"


def _fields_from(body: bytes, now: dt.datetime) -> dict:
    try:
        envelope = wire.parse_envelope(body)
        if _may_hold_nul(body, envelope) and (_has_nul(envelope.raw) or _has_nul(envelope.content)):
            # PostgreSQL text cannot hold NUL: such a delivery could never be stored or processed.
            raise wire.MalformedPayloadError("a NUL character in the payload")
        return {
            "event": envelope.event[:64],
            "business_id": envelope.business_id[:128],
            "dedupe_key": _bounded_key(wire.dedupe_key(envelope)),
            "conversation_id": envelope.id_of("conversation_id")[:200],
            "comment_id": envelope.id_of("comment_id")[:32],
            "status": WebhookEvent.Status.PENDING,
            "next_attempt_at": now + PROCESSING_LEASE,
        }
    except wire.MalformedPayloadError as exc:
        # Signed by TikTok but unreadable: keep it for staff, never retry it (TikTok would for 72 hours).
        return {
            "dedupe_key": f"sha256:{wire.body_hash(body)}",
            "status": WebhookEvent.Status.FAILED,
            "error": f"malformed payload: {exc}"[: processing.ERROR_CHARS],
        }


def _after_batch(written: list[tuple[dict[str, object], int | None]]) -> None:
    wakeups().add(
        event_id for values, event_id in written if event_id is not None and values["status"] == Status.PENDING
    )


# One per process: the threads of a gunicorn gthread worker share their commits.
_intake = GroupCommit(write=insert.write_batch, after=_after_batch)


# ------------------------------------------------------------------------------------------------ queue
def enqueue_processing(event_ids: Iterable[int]) -> None:
    """Make sure a worker will process these committed rows: per lane, queue a task unless one is already queued
    or draining (intake/lanes.py, one Redis round trip for all the lanes); the task drains whatever else is
    pending too. A Redis or broker failure is logged; the rows stay pending and the sweeper queues them again.
    Without a broker the task runs here, in the calling thread."""
    from channels_tiktok import tasks  # late: the tasks module imports this one

    of_lane: dict[int, list[int]] = {}
    for event_id in event_ids:
        of_lane.setdefault(lanes.lane(event_id), []).append(event_id)
    if not of_lane:
        return
    try:
        claimed = lanes.claim_many(list(of_lane))
    except Exception:  # no Redis: queue regardless
        logger.warning("tiktok.webhook.lane_unavailable", extra={"lanes": list(of_lane)}, exc_info=True)
        claimed = list(of_lane)
    for lane in claimed:
        try:
            tasks.process_webhook_event.delay(*of_lane[lane])
        except Exception:  # whatever the broker raises, TikTok must still get its 200
            logger.warning("tiktok.webhook.enqueue_failed", extra={"webhook_events": of_lane[lane]}, exc_info=True)
            try:
                lanes.release(of_lane[lane][0])  # the next wake-up tries the broker again
            except Exception:  # the flag then expires by itself
                logger.warning("tiktok.webhook.lane_unavailable", extra={"lane": lane}, exc_info=True)


def wakeups() -> Wakeups:
    """This process's wake-up thread, for the current TIKTOK_WEBHOOK_WAKEUP_SECONDS."""
    return _wakeups_every(settings.TIKTOK_WEBHOOK_WAKEUP_SECONDS)


@functools.cache
def _wakeups_every(interval: float) -> Wakeups:
    return Wakeups(wake=enqueue_processing if interval <= 0 else _wake_from_thread, interval=interval)


def _wake_from_thread(event_ids: list[int]) -> None:
    """The wake-up thread's call. Queuing a task needs no database, but a task run in-process does (no broker):
    whatever connection this thread opened is closed after each wake-up, as Django does after a request."""
    try:
        enqueue_processing(event_ids)
    finally:
        connections.close_all()


# ------------------------------------------------------------------------------------------------ sweep, prune, replay
def sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH, max_batches: int = 20) -> int:
    """Queue rows whose processing is due: pending past their lease (task lost) or failed with a retry due.

    Safe to run twice at once: rows are taken with SKIP LOCKED (PostgreSQL) and their lease is pushed forward
    in the same transaction, so a second sweeper sees them as not due. Batches repeat until one comes back
    short: a leased row is not due again, so no row is taken twice in one run.
    """
    now = now or timezone.now()
    total = 0
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
                .order_by("id")
                .values_list("pk", flat=True)[:batch]
            )
            WebhookEvent.objects.filter(pk__in=ids).update(next_attempt_at=now + PROCESSING_LEASE)
            if ids:
                transaction.on_commit(functools.partial(enqueue_processing, ids))
        total += len(ids)
        if len(ids) < batch:
            break
    if total:
        logger.info("tiktok.webhook.sweep.queued", extra={"count": total})
    return total


def prunable(now: dt.datetime) -> models.QuerySet | None:
    """The finished journal rows (processed, ignored, or failed with no retry due) received more than
    TIKTOK_JOURNAL_RETENTION_DAYS before `now`; None when the journal is kept forever. Pending rows and rows with
    a retry due are never among them."""
    before = retention.cutoff(now, settings.TIKTOK_JOURNAL_RETENTION_DAYS)
    if before is None:
        return None
    return WebhookEvent.objects.filter(
        status__in=[Status.PROCESSED, Status.IGNORED, Status.FAILED],
        next_attempt_at__isnull=True,
        received_at__lt=before,
    )


def prune(*, now: dt.datetime | None = None, budget_seconds: float = retention.TIME_BUDGET_SECONDS) -> int:
    """Delete the `prunable` rows, within the time budget; returns how many went (the beat's schedule, and
    `manage.py prune_retention`)."""
    return retention.prune(
        prunable(now or timezone.now()), event="tiktok.webhook.pruned", budget_seconds=budget_seconds
    )


def replay(*, event: WebhookEvent) -> WebhookEvent | None:
    """Staff's replay: re-run processing now, whatever the row's state; nothing is done twice."""
    logger.info("tiktok.webhook.replay", extra={"webhook_event": event.pk})
    return processing.process_event(event_id=event.pk, replay=True)
