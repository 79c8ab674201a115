"""The webhook journal (B2, B3): store a verified delivery first, process it later from the stored row.

- `record_delivery` is the receiver's only database work: one INSERT; the unique `dedupe_key` makes
  concurrent duplicate deliveries collapse into one row (the losers get an IntegrityError and are answered
  200 like the winner). Processing is queued after the commit.
- `process_event` runs the handler for one row under a row lock, so a re-queued task and the original never
  process one event at the same time; handlers are idempotent, so a replay changes nothing twice.
- `sweep` re-queues rows whose task was lost (pending past their lease) or whose retry is due (failed).
"""

import datetime as dt
import functools
import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import constants, handlers, webhooks
from .models import WebhookEvent

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A pending row whose processing has not finished by then is presumed lost and queued again.
PROCESSING_LEASE = dt.timedelta(minutes=1)
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=1)
SWEEP_BATCH = 500
ERROR_CHARS = 2000
STORED_HEADERS = ("Content-Type", "User-Agent", constants.SIGNATURE_HEADER)


def enqueue_processing(event_id: int) -> None:
    """Queue processing; a broker failure is logged and left to the sweeper (the row stays pending)."""
    from . import tasks

    try:
        tasks.process_webhook_event.delay(event_id)
    except Exception:  # whatever the broker raises, TikTok must still get its 200
        logger.warning("tiktok.webhook.enqueue_failed", extra={"webhook_event": event_id}, exc_info=True)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _fields_from(body: bytes, now: dt.datetime) -> dict:
    try:
        envelope = webhooks.parse_envelope(body)
        if _has_nul(envelope.raw) or _has_nul(envelope.content):
            # PostgreSQL text cannot hold NUL: such a delivery could never be stored or processed.
            raise webhooks.MalformedPayloadError("a NUL character in the payload")
        return {
            "event": envelope.event[:64],
            "business_id": envelope.business_id[:128],
            "dedupe_key": webhooks.dedupe_key(envelope),
            "conversation_id": envelope.id_of("conversation_id")[:200],
            "comment_id": envelope.id_of("comment_id")[:32],
            "status": WebhookEvent.Status.PENDING,
            "next_attempt_at": now + PROCESSING_LEASE,
        }
    except webhooks.MalformedPayloadError as exc:
        # Signed by TikTok but unreadable: keep it for staff, never retry it (TikTok would for 72 hours).
        return {
            "dedupe_key": f"sha256:{webhooks.body_hash(body)}",
            "status": WebhookEvent.Status.FAILED,
            "error": f"malformed payload: {exc}"[:ERROR_CHARS],
        }


def record_delivery(*, body: bytes, headers: Mapping[str, str]) -> tuple[WebhookEvent | None, bool]:
    """Journal one verified delivery. Returns (row, created); a duplicate gives (None, False)."""
    fields = _fields_from(body, timezone.now())
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                # NUL cannot be stored in PostgreSQL text; a body with one is malformed and kept for staff only.
                raw_body=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
                headers={name: headers[name] for name in STORED_HEADERS if name in headers},
                **fields,
            )
            if event.status == WebhookEvent.Status.PENDING:
                transaction.on_commit(functools.partial(enqueue_processing, event.pk))
    except IntegrityError:
        logger.info("tiktok.webhook.duplicate", extra={"dedupe_key": fields["dedupe_key"]})
        return None, False
    logger.info(
        "tiktok.webhook.stored",
        extra={"webhook_event": event.pk, "event": event.event, "status": event.status},
    )
    return event, True


def _retry_at(attempts: int, now: dt.datetime) -> dt.datetime | None:
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


def _to_do(event: WebhookEvent) -> bool:
    """Pending, or failed with a retry scheduled."""
    return event.status == WebhookEvent.Status.PENDING or (
        event.status == WebhookEvent.Status.FAILED and event.next_attempt_at is not None
    )


def process_event(*, event_id: int, replay: bool = False) -> WebhookEvent | None:
    """Process one journal row. Without `replay`, only rows still to do are processed; `replay` re-runs a row in
    any state (handlers are idempotent)."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None or not (replay or _to_do(event)):
        return event
    try:
        # Remote reads first, outside any transaction: no lock is held while TikTok answers.
        prepared: handlers.Inbound | handlers.Outcome | Exception = handlers.prepare(event)
    except Exception as exc:  # noqa: BLE001 - recorded under the lock below, like a failure of apply
        prepared = exc
    with transaction.atomic():
        # The row lock serialises workers on one event; the second finds it done and stops.
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if not (replay or _to_do(event)):
            return event
        now = timezone.now()
        event.attempts += 1
        try:
            if isinstance(prepared, Exception):
                raise prepared
            with transaction.atomic():
                outcome = handlers.apply(prepared, event=event)
        except Exception as exc:  # any failure is journaled for staff and retried
            logger.exception("tiktok.webhook.process_failed", extra={"webhook_event": event.pk, "event": event.event})
            event.status = WebhookEvent.Status.FAILED
            event.error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
            event.next_attempt_at = _retry_at(event.attempts, now)
        else:
            event.status = outcome.status
            event.error = outcome.note[:ERROR_CHARS]
            event.next_attempt_at = None
            logger.info(
                "tiktok.webhook.processed",
                extra={"webhook_event": event.pk, "event": event.event, "status": outcome.status},
            )
        event.processed_at = now
        event.save(update_fields=["account", "status", "error", "attempts", "next_attempt_at", "processed_at"])
    return event


def replay(*, event: WebhookEvent) -> WebhookEvent | None:
    """Staff's replay: re-run processing now, whatever the row's state; nothing is done twice."""
    logger.info("tiktok.webhook.replay", extra={"webhook_event": event.pk})
    return process_event(event_id=event.pk, replay=True)


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
                .filter(
                    status__in=[WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED],
                    next_attempt_at__lte=now,
                )
                .order_by("id")
                .values_list("pk", flat=True)[:batch]
            )
            WebhookEvent.objects.filter(pk__in=ids).update(next_attempt_at=now + PROCESSING_LEASE)
            for event_id in ids:
                transaction.on_commit(functools.partial(enqueue_processing, event_id))
        total += len(ids)
        if len(ids) < batch:
            break
    if total:
        logger.info("tiktok.webhook.sweep.queued", extra={"count": total})
    return total
