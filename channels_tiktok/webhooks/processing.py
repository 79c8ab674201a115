"""Processing journal rows: one path for every row, whoever asks (a worker's task, staff's replay, a test).

`process(ids)` takes rows (the given ones; unless replaying, the batch is filled up with the oldest pending rows)
and processes them in at most two transactions:

1. Under the rows' locks (FOR UPDATE SKIP LOCKED: two workers never take one row), the rows that need nothing from
   TikTok are applied (consecutive direct messages set-wise, handlers.apply_many) and their outcomes written: one
   commit for the batch. Rows that need a remote read (an image's URL, a comment's text) are marked as being read
   (`fetching_until`), so that no other worker asks TikTok for them too.
2. Those rows are read from TikTok outside any lock (the comments of one video in shared calls,
   handlers.prepare_many), then applied as in step 1.

Each row's outcome is written in the transaction of its effects: exactly once; handlers are idempotent, so a
replay changes nothing twice. Should a batch of several rows raise, it is rolled back and each of its rows is
processed alone; a row alone that fails is journaled as failed (retried later, with backoff), a deadlock with
another worker is tried again first. `drain` is the worker's task: batches until one comes back short.
"""

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import handlers
from channels_tiktok.webhooks.intake import lanes

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A pending row whose processing has not finished by then is presumed lost and queued again.
PROCESSING_LEASE = dt.timedelta(minutes=1)
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=1)
# How many rows one transaction processes: one commit (one WAL flush) per batch instead of one per row. Small
# enough that a batch holds its locks briefly.
PROCESS_BATCH = 25
DRAIN_BATCHES = 40
ERROR_CHARS = 2000
# PostgreSQL's transient conflicts: it aborted this transaction so that another could go on; trying again is right.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
TRANSIENT_RETRIES = 3

Prepared = handlers.Inbound | handlers.Outcome | Exception


def drain(*event_ids: int) -> int:
    """The worker's task: process these rows (those still to do), then the pending rows, in batches, until a batch
    comes back short. Returns the rows taken.

    Then it clears its lane's flag (intake/lanes.py) and drains once more: a row committed before the flag was
    cleared, whose wake-up therefore queued no task, is taken here; a row committed after it queues a task of its
    own. Bounded: a backlog still there after 2 x DRAIN_BATCHES batches is handed to a fresh task instead of keeping
    this one running."""
    taken = 0
    try:
        for start in range(0, len(event_ids), PROCESS_BATCH):
            taken += process(event_ids[start : start + PROCESS_BATCH])
        taken += _drain_pending()[0]
    finally:
        if event_ids:
            _release_lane(event_ids[0])
    count, backlog = _drain_pending()
    if backlog and event_ids:
        _hand_over(event_ids[0])
    return taken + count


def _drain_pending() -> tuple[int, bool]:
    """Batches of pending rows until one comes back short; returns (rows taken, a backlog is left)."""
    taken = 0
    for _ in range(DRAIN_BATCHES):
        count = process()
        taken += count
        if count < PROCESS_BATCH:
            return taken, False
    return taken, True


def _release_lane(event_id: int) -> None:
    try:
        lanes.release(event_id)
    except Exception:  # the flag then expires by itself
        logger.warning("tiktok.webhook.lane_unavailable", extra={"webhook_event": event_id}, exc_info=True)


def _hand_over(event_id: int) -> None:
    from channels_tiktok import tasks  # late: the tasks module imports this one

    try:
        if lanes.claim(event_id):
            tasks.process_webhook_event.delay(event_id)
    except Exception:  # the rows stay pending; the sweeper queues them again
        logger.warning("tiktok.webhook.enqueue_failed", extra={"webhook_event": event_id}, exc_info=True)


def process_event(*, event_id: int, replay: bool = False) -> WebhookEvent | None:
    """Process one row alone and return it as stored after (None if there is no such row). Without `replay`, only
    a row still to do is processed; `replay` re-runs a row in any state."""
    done: dict[int, WebhookEvent] = {}
    process([event_id], replay=replay, batch=1, done=done)
    if event_id in done:  # as written: its outcome's UPDATE set exactly these fields
        return done[event_id]
    return WebhookEvent.objects.filter(pk=event_id).first()


def process(
    event_ids: Sequence[int] = (),
    *,
    replay: bool = False,
    batch: int = PROCESS_BATCH,
    done: dict[int, WebhookEvent] | None = None,
) -> int:
    """Process rows `event_ids` and, unless replaying, up to `batch` rows in all with the oldest pending others
    that no other worker holds. Returns how many rows were taken. `done`, if given, receives each row whose
    outcome was written, as written."""
    done = {} if done is None else done
    try:
        taken, remote, accounts = _take(list(event_ids), replay=replay, batch=batch, done=done)
    except _BatchFailedError as failed:
        _each_alone(failed, replay=replay, done=done)
        return len(failed.ids)
    except _RowFailedError as failed:
        pk = failed.row.pk
        _row_failed(failed, replay=replay, done=done, again=lambda: _take([pk], replay=replay, batch=1, done=done))
        return 1
    if remote:
        # Remote reads outside any transaction: no lock is held while TikTok answers. The rows as step 1 read them
        # under their locks (and marked them as being read), with the accounts it read for them.
        prepared = dict(zip([row.pk for row in remote], handlers.prepare_many(remote, accounts=accounts), strict=True))
        try:
            _apply_prepared(prepared, replay=replay, done=done)
        except _BatchFailedError as failed:
            _each_alone(failed, replay=replay, done=done, prepared=prepared)
        except _RowFailedError as failed:
            _apply_alone(failed.row.pk, prepared, replay=replay, done=done, failed=failed)
    return taken


def _apply_alone(
    pk: int,
    prepared: dict[int, Prepared],
    *,
    replay: bool,
    done: dict[int, WebhookEvent],
    failed: "_RowFailedError | None" = None,
) -> None:
    """Step 2 for one row read from TikTok; its failure is retried or journaled (`_row_failed`)."""

    def again() -> None:
        _apply_prepared({pk: prepared[pk]}, replay=replay, done=done)

    if failed is None:
        try:
            again()
            return
        except _RowFailedError as first:
            failed = first
    _row_failed(failed, replay=replay, done=done, again=again)


def _to_do(event: WebhookEvent) -> bool:
    """Pending, or failed with a retry scheduled."""
    return event.status == WebhookEvent.Status.PENDING or (
        event.status == WebhookEvent.Status.FAILED and event.next_attempt_at is not None
    )


class _BatchFailedError(Exception):
    def __init__(self, ids: list[int]) -> None:
        super().__init__(f"batch of {len(ids)} rows failed")
        self.ids = ids


class _RowFailedError(Exception):
    """A row applied alone raised; its transaction is rolled back. `row` is the row as it was being applied."""

    def __init__(self, row: WebhookEvent, error: Exception):
        super().__init__(f"row {row.pk} failed")
        self.row, self.error = row, error


def _row_failed(failed: _RowFailedError, *, replay: bool, done: dict[int, WebhookEvent], again: Callable) -> None:
    """A row alone failed and was rolled back: a transient conflict with another worker (a deadlock) is tried
    again at once (up to TRANSIENT_RETRIES times in all); any other failure is journaled for the row, in a
    transaction of its own, if the row is still to do."""
    for attempt in range(1, TRANSIENT_RETRIES):
        cause = getattr(failed.error, "__cause__", None)
        if not isinstance(failed.error, DatabaseError) or getattr(cause, "sqlstate", None) not in TRANSIENT_SQLSTATES:
            break
        logger.warning("tiktok.webhook.transient_conflict", extra={"webhook_event": failed.row.pk, "attempt": attempt})
        done.pop(failed.row.pk, None)
        try:
            again()
            return
        except _RowFailedError as next_failure:
            failed = next_failure
    now = timezone.now()
    with transaction.atomic():
        row = WebhookEvent.objects.select_for_update(skip_locked=not replay).filter(pk=failed.row.pk).first()
        if row is None or not (replay or _to_do(row)):  # another worker took it meanwhile
            done.pop(failed.row.pk, None)
            return
        row.account_id = failed.row.account_id
        row.attempts += 1
        row.processed_at = now
        _record_failure(row, failed.error, now)
        done[row.pk] = row


def _each_alone(
    failed: _BatchFailedError,
    *,
    replay: bool,
    done: dict[int, WebhookEvent],
    prepared: dict[int, Prepared] | None = None,
) -> None:
    logger.warning("tiktok.webhook.batch_failed", extra={"rows": len(failed.ids)})
    for event_id in failed.ids:
        done.pop(event_id, None)  # rolled back with its batch
        if prepared is not None:
            _apply_alone(event_id, prepared, replay=replay, done=done)
        else:
            process([event_id], replay=replay, batch=1, done=done)


def _take(
    event_ids: list[int], *, replay: bool, batch: int, done: dict[int, WebhookEvent]
) -> tuple[int, list[WebhookEvent], dict]:
    """Step 1: lock the rows, apply those that need nothing remote (and no earlier row of their conversation does),
    mark the others as being read. Returns
    (rows taken, the rows to read from TikTok, the accounts read by business id)."""
    now = timezone.now()
    rows: list[WebhookEvent] = []
    try:
        with transaction.atomic():
            if event_ids:
                # A replay waits for a row another worker holds; otherwise that worker is processing it already.
                locked = (
                    WebhookEvent.objects.select_for_update(skip_locked=not replay)
                    .filter(pk__in=event_ids)
                    .annotate(**handlers.ROW_FACTS)
                )
                rows = [row for row in locked.order_by("id") if replay or _to_do(row)]
            room = 0 if replay else batch - len(event_ids)
            if room > 0:
                others = (
                    WebhookEvent.objects.select_for_update(skip_locked=True)
                    .filter(status=WebhookEvent.Status.PENDING)
                    # Rows another worker is reading from TikTok for (step 2), unless it died at it.
                    .exclude(fetching_until__gt=now)
                    .exclude(pk__in=event_ids)
                    .order_by("next_attempt_at")
                    .annotate(**handlers.ROW_FACTS)
                )
                rows += others[:room]
            accounts: dict = {}
            work: list[tuple[WebhookEvent, Prepared]] = []
            remote: list[WebhookEvent] = []
            waiting: set[tuple[str, str]] = set()  # conversations with a row read from TikTok first
            for row in sorted(rows, key=lambda row: row.pk):
                ready = handlers.prepare(row, remote=False, accounts=accounts)
                conversation = (row.business_id, row.conversation_id)
                if ready is None or (row.conversation_id and conversation in waiting):
                    # Read from TikTok, or after such a row of its conversation: applied in step 2, in arrival order.
                    remote.append(row)
                    if row.conversation_id:
                        waiting.add(conversation)
                else:
                    work.append((row, ready))
            if remote:
                fetching_until = now + PROCESSING_LEASE
                WebhookEvent.objects.filter(pk__in=[row.pk for row in remote]).update(fetching_until=fetching_until)
                for row in remote:
                    row.fetching_until = fetching_until
            _apply_locked(work, now, done)
    except Exception as exc:
        if len(rows) > 1:
            raise _BatchFailedError([row.pk for row in rows]) from exc
        raise
    return len(rows), remote, accounts


def _apply_prepared(prepared: dict[int, Prepared], *, replay: bool, done: dict[int, WebhookEvent]) -> None:
    """Step 2: apply rows read from TikTok, under their locks, those still to do (any, when replaying)."""
    now = timezone.now()
    work: list[tuple[WebhookEvent, Prepared]] = []
    try:
        with transaction.atomic():
            locked = (
                WebhookEvent.objects.select_for_update(skip_locked=not replay)
                .filter(pk__in=list(prepared))
                .annotate(**handlers.ROW_FACTS)
            )
            work = [(row, prepared[row.pk]) for row in locked.order_by("id") if replay or _to_do(row)]
            _apply_locked(work, now, done)
    except Exception as exc:
        if len(work) > 1:
            raise _BatchFailedError([row.pk for row, _ in work]) from exc
        raise


def _lock_order(item: tuple[WebhookEvent, object]) -> tuple[str, str, int]:
    # Rows of one conversation touch the same client, conversation and variable rows. Applying every batch in
    # this order makes two workers take those row locks in the same order, so two batches never deadlock; and
    # rows of one conversation stay in arrival order.
    event = item[0]
    return (event.business_id, event.conversation_id, event.pk)


def _apply_locked(work: list[tuple[WebhookEvent, Prepared]], now: dt.datetime, done: dict[int, WebhookEvent]) -> None:
    """Apply locked rows in the caller's transaction and write their outcomes. Several rows are applied together
    (an error raises, for the caller to roll back); a row alone raises _RowFailedError, for the caller to roll back
    and then retry or journal it (`_row_failed`). A remote read that failed is journaled here. `done` receives the
    rows as written."""
    work.sort(key=_lock_order)
    done.update((row.pk, row) for row, _ready in work)
    applied: list[tuple[handlers.Inbound | handlers.Outcome, WebhookEvent]] = []
    for row, ready in work:
        row.attempts += 1
        row.processed_at = now
        if isinstance(ready, Exception):  # its remote read failed
            _record_failure(row, ready, now)
        else:
            applied.append((ready, row))
    if len(work) == 1 and applied:
        # A row alone: no savepoint of its own. Should it raise, the caller's transaction is rolled back and the
        # failure retried or journaled in a transaction of its own (_row_failed): one round trip per savepoint
        # less for every row that succeeds.
        [(ready, row)] = applied
        try:
            outcome = handlers.apply(ready, event=row)
            handlers.touch_accounts([(ready, row)])
        except Exception as exc:
            raise _RowFailedError(row, exc) from exc
        _write_outcomes([(row, outcome)], now)
        return
    outcomes = handlers.apply_many(applied)
    handlers.touch_accounts(applied)
    _write_outcomes([(row, outcome) for (_ready, row), outcome in zip(applied, outcomes, strict=True)], now)


def _write_outcomes(done: list[tuple[WebhookEvent, handlers.Outcome]], now: dt.datetime) -> None:
    """One UPDATE per distinct outcome (usually one for the whole batch)."""
    groups: dict[tuple, list[int]] = {}
    for row, outcome in done:
        row.status, row.error, row.next_attempt_at = outcome.status, outcome.note[:ERROR_CHARS], None
        groups.setdefault((row.status, row.error, row.account_id), []).append(row.pk)
        logger.debug(
            "tiktok.webhook.processed", extra={"webhook_event": row.pk, "event": row.event, "status": outcome.status}
        )
    for (status, error, account_id), pks in groups.items():
        WebhookEvent.objects.filter(pk__in=pks).update(
            status=status,
            error=error,
            account_id=account_id,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            processed_at=now,
        )
    if len(done) > 1:
        logger.info("tiktok.webhook.batch_processed", extra={"rows": len(done)})


def _retry_at(attempts: int, now: dt.datetime) -> dt.datetime | None:
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


def _record_failure(event: WebhookEvent, exc: Exception, now: dt.datetime) -> None:
    logger.error(
        "tiktok.webhook.process_failed",
        extra={"webhook_event": event.pk, "event": event.event},
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    event.status = WebhookEvent.Status.FAILED
    event.error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
    event.next_attempt_at = _retry_at(event.attempts, now)
    event.save(update_fields=["account", "status", "error", "attempts", "next_attempt_at", "processed_at"])
