"""The webhook journal (B2, B3): store a verified delivery first, process it later from the stored row.

- `record_delivery` is the receiver's only database work: one INSERT … ON CONFLICT DO NOTHING, shared with the
  deliveries other threads of the process journal at the same moment (intake/group_commit.py), on a connection the
  process keeps for it (intake/connection.py); the unique `dedupe_key`
  makes concurrent duplicate deliveries collapse into one row (the others are answered 200 like the first). Once
  the rows are committed, the process's wake-up thread (intake/wakeups.py) gathers them with the others of the last
  few milliseconds and queues a task per lane unless one is already on its way (intake/lanes.py).
- `drain` is the worker task: it processes its row, then every pending row, in batches of PROCESS_BATCH rows
  per transaction (one commit for the batch; consecutive direct messages written set-wise, one statement per
  kind of row: handlers.apply_many). Rows are locked FOR UPDATE SKIP LOCKED, so two workers never process one
  row, and each row's outcome is written in the transaction of its effects: exactly once.
  Handlers are idempotent, so a replay changes nothing twice. A batch that raises is rolled back and its rows
  are processed one by one (`process_event`), each failure journaled for its own row and retried.
- `sweep` re-queues rows whose task was lost (pending past their lease) or whose retry is due (failed).
"""

import datetime as dt
import functools
import logging
from collections.abc import Mapping

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import F
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import handlers, wire
from channels_tiktok.webhooks.intake import lanes
from channels_tiktok.webhooks.intake.connection import IntakeConnection, wrap_raw_cursor
from channels_tiktok.webhooks.intake.group_commit import GroupCommit
from channels_tiktok.webhooks.intake.wakeups import Wakeups
from clients import retention

Status = WebhookEvent.Status

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A pending row whose processing has not finished by then is presumed lost and queued again.
PROCESSING_LEASE = dt.timedelta(minutes=1)
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=1)
SWEEP_BATCH = 500
# How many pending rows one worker task processes in one transaction (its own row and the oldest others): one
# commit (one WAL flush) per batch instead of one per row. Small enough that a batch holds its locks briefly.
PROCESS_BATCH = 25
DRAIN_BATCHES = 40
ERROR_CHARS = 2000
STORED_HEADERS = ("Content-Type", "User-Agent", constants.SIGNATURE_HEADER)


# Each stored header with its WSGI environ key (CONTENT_TYPE has no HTTP_ prefix).
_STORED_META = tuple(
    (name, key if key == "CONTENT_TYPE" else f"HTTP_{key}")
    for name, key in ((name, name.upper().replace("-", "_")) for name in STORED_HEADERS)
)


def stored_headers(meta: Mapping[str, str]) -> dict[str, str]:
    """The STORED_HEADERS of a request, read from its WSGI environ (cheaper than building `request.headers`)."""
    return {name: meta[key] for name, key in _STORED_META if key in meta}


def enqueue_processing(event_id: int) -> None:
    """Make sure a worker will process this committed row (see `enqueue_processing_many`)."""
    enqueue_processing_many([event_id])


def enqueue_processing_many(event_ids: list[int]) -> None:
    """Make sure a worker will process these committed rows: per lane, queue a task unless one is already queued
    or draining (intake/lanes.py); the lanes of a batch are claimed in one Redis round trip. A Redis or broker
    failure is logged; the rows stay pending and the sweeper re-queues them."""
    from channels_tiktok import tasks

    first_of_lane: dict[int, int] = {}
    for event_id in event_ids:
        first_of_lane.setdefault(lanes.lane(event_id), event_id)
    if not first_of_lane:
        return
    try:
        claimed = lanes.claim_many(list(first_of_lane))
    except Exception:  # no Redis: queue regardless
        logger.warning("tiktok.webhook.lane_unavailable", extra={"webhook_events": event_ids}, exc_info=True)
        claimed = list(first_of_lane)
    for lane in claimed:
        event_id = first_of_lane[lane]
        try:
            tasks.process_webhook_event.delay(event_id)
        except Exception:  # whatever the broker raises, TikTok must still get its 200
            logger.warning("tiktok.webhook.enqueue_failed", extra={"webhook_event": event_id}, exc_info=True)
            _release_lane(event_id)  # the next delivery tries the broker again


def _release_lane(event_id: int) -> None:
    try:
        lanes.release(event_id)
    except Exception:  # the flag then expires by itself
        logger.warning("tiktok.webhook.lane_unavailable", extra={"webhook_event": event_id}, exc_info=True)


def drain(*, event_id: int) -> int:
    """The worker task: process row `event_id`, then every pending row, in batches. Returns the rows taken.

    Stops when a batch comes back short (nothing left that no other worker holds), clears the lane's flag, then
    drains once more: a row committed before the flag was cleared, whose intake therefore queued no task, is
    taken here; a row committed after it queues a task of its own. Bounded: a backlog still there after
    2 x DRAIN_BATCHES batches is handed to a fresh task instead of keeping this one running.
    """
    taken = 0
    try:
        process_event(event_id=event_id, batch=PROCESS_BATCH)
        for _ in range(DRAIN_BATCHES):
            count = _drain_batch()
            taken += count
            if count < PROCESS_BATCH:
                break
    finally:
        _release_lane(event_id)
    for _ in range(DRAIN_BATCHES):
        count = _drain_batch()
        taken += count
        if count < PROCESS_BATCH:
            return taken
    enqueue_processing(event_id)
    return taken


def _has_nul(value) -> bool:
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


_DEDUPE_KEY_CHARS = WebhookEvent._meta.get_field("dedupe_key").max_length


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
            "error": f"malformed payload: {exc}"[:ERROR_CHARS],
        }


# The journal's INSERT, written once from the model: every column but the id; each value prepared by its field as
# the ORM prepares it, the ones intake never sets (their defaults) once per connection vendor. What is skipped is
# the ORM's per-call work (a model instance, query compilation), which cost several times the INSERT itself on the
# hottest path of the service (B10). ON CONFLICT DO NOTHING: a duplicate delivery is no error (no exception, no
# ERROR line in PostgreSQL's log for each of TikTok's retries); RETURNING tells new rows from duplicates.
_INSERTED_FIELDS = [field for field in WebhookEvent._meta.concrete_fields if not field.primary_key]
_NAMED_FIELDS = [(field.attname, field) for field in _INSERTED_FIELDS]
_UNSET = object()


def _keeps_str(field) -> bool:
    """Whether the field stores a `str` exactly as given: a plain CharField or TextField (not a subclass, which could
    prepare its values), whose preparation of a str returns it unchanged. Such values skip the field's preparation
    calls (ten a delivery, on the hottest path of the service); anything else, an enum member included, is prepared
    by its field."""
    return type(field) in (models.CharField, models.TextField)


_STR_AS_IS = frozenset(field.attname for field in _INSERTED_FIELDS if _keeps_str(field))


@functools.cache
def _insert_sql(vendor: str, rows: int) -> str:
    quote = connections[router.db_for_write(WebhookEvent)].ops.quote_name
    meta = WebhookEvent._meta
    columns = ", ".join(quote(field.column) for field in _INSERTED_FIELDS)
    width = len(_INSERTED_FIELDS)
    if vendor == "postgresql":
        # PostgreSQL's own placeholders, for psycopg's RawCursor: it sends the text as it is. psycopg parses a
        # query's `%s` placeholders again on every execution once it has more than 50 parameters (four journal
        # rows): that parsing was 0.08 of the 0.18 ms of CPU a four-row batch cost the web process.
        values = ", ".join(
            "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")" for row in range(rows)
        )
    else:
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * rows)
    dedupe_key = quote(meta.get_field("dedupe_key").column)
    # Only the model's own names, quoted; every value is a parameter.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({dedupe_key}) DO NOTHING RETURNING {quote(meta.pk.column)}, {dedupe_key}"
    )


@functools.cache
def _defaults(vendor: str) -> dict[str, object]:
    """Every column's default, prepared for this vendor: the values of the columns a delivery does not set."""
    connection = connections[router.db_for_write(WebhookEvent)]
    return {field.attname: field.get_db_prep_save(field.get_default(), connection) for field in _INSERTED_FIELDS}


def _insert(rows: list[dict[str, object]], *, own_connection: bool = False) -> list[int | None]:
    """Insert journal rows in one statement, skipping any whose dedupe key is already journaled (or repeats an
    earlier row of the list); returns each row's new id, or None for a duplicate.

    On PostgreSQL the statement goes with server-side binding (psycopg's RawCursor, `$n` placeholders) and is
    prepared on its connection: the values travel apart from the SQL (no quoting of the body in Python) and
    PostgreSQL plans it once. With `own_connection` (the group commit's writes) it goes on the process's journal
    connection (intake/connection.py), otherwise on the thread's Django connection (inside a caller's
    transaction). Query logging and execute wrappers (tests, debug tools) see it either way."""
    connection = connections[router.db_for_write(WebhookEvent)]
    vendor = connection.vendor
    defaults = _defaults(vendor)
    params = [
        defaults[name]
        if (value := values.get(name, _UNSET)) is _UNSET
        else value
        if type(value) is str and name in _STR_AS_IS
        else field.get_db_prep_save(value, connection)
        for values in rows
        for name, field in _NAMED_FIELDS
    ]
    sql = _insert_sql(vendor, len(rows))
    if vendor == "postgresql" and own_connection:
        returned = _intake_connection().execute(sql, params)
    else:
        if vendor == "postgresql":
            connection.ensure_connection()
            opened = wrap_raw_cursor(connection, psycopg.RawCursor(connection.connection))
        else:
            opened = connection.cursor()
        with opened as cursor:
            cursor.execute(sql, params)
            returned = cursor.fetchall()
    inserted = {key: pk for pk, key in returned}
    # RETURNING follows no order: rows are matched by key; of two rows with one key, the first was inserted.
    return [inserted.pop(values["dedupe_key"], None) for values in rows]


@functools.cache
def _intake_connection() -> IntakeConnection:
    return IntakeConnection(router.db_for_write(WebhookEvent))


def close_intake_connection() -> None:
    """Close this process's journal connection, if open (the test suite, before dropping its database)."""
    if _intake_connection.cache_info().currsize:
        _intake_connection().close()


# What a write of one row can fail with: the database refusing a value, or a value that cannot be sent to it
# (ValueError: a str the driver cannot encode, say).
_ROW_ERRORS = (DatabaseError, ValueError)


def _write_batch(rows: list[dict[str, object]]) -> list[int | Exception | None]:
    """The group commit's write: one statement for the batch, committed by itself. Should it fail for a reason
    one row could carry (a value the database refuses or the driver cannot send), every row is tried alone, so
    that only that delivery fails; a database that is down fails each of them, and TikTok retries each."""
    try:
        return _insert(rows, own_connection=True)
    except _ROW_ERRORS:
        if len(rows) == 1:
            raise
    outcomes: list[int | Exception | None] = []
    for values in rows:
        try:
            outcomes.extend(_insert([values], own_connection=True))
        except _ROW_ERRORS as exc:
            outcomes.append(exc)
    return outcomes


def _wakeups() -> Wakeups:
    return _wakeups_every(settings.TIKTOK_WEBHOOK_WAKEUP_SECONDS)


@functools.cache
def _wakeups_every(interval: float) -> Wakeups:
    # One per process and interval: its thread gathers the wake-ups of every request thread (intake/wakeups.py).
    return Wakeups(wake=enqueue_processing_many if interval <= 0 else _wake_from_thread, interval=interval)


def _wake_from_thread(event_ids: list[int]) -> None:
    """The wake-up thread's call. Queuing a task needs no database, but a task run in-process does (the tests):
    whatever connection this thread opened is closed after each wake-up, as Django does after a request."""
    try:
        enqueue_processing_many(event_ids)
    finally:
        connections.close_all()


def _after_batch(written: list[tuple[dict[str, object], int | None]]) -> None:
    _wakeups().add(
        event_id for values, event_id in written if event_id is not None and values["status"] == Status.PENDING
    )


# One per process: the threads of a gunicorn gthread worker share their commits (intake/group_commit.py).
_intake = GroupCommit(write=_write_batch, after=_after_batch)


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
        [event_id] = _insert([values])
        if event_id is not None and fields["status"] == Status.PENDING:
            transaction.on_commit(functools.partial(enqueue_processing, event_id))
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


def _retry_at(attempts: int, now: dt.datetime) -> dt.datetime | None:
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


def _to_do(event: WebhookEvent) -> bool:
    """Pending, or failed with a retry scheduled."""
    return event.status == WebhookEvent.Status.PENDING or (
        event.status == WebhookEvent.Status.FAILED and event.next_attempt_at is not None
    )


def _prepare(event: WebhookEvent) -> handlers.Inbound | handlers.Outcome | Exception:
    try:
        # Remote reads first, outside any transaction: no lock is held while TikTok answers.
        return handlers.prepare(event)
    except Exception as exc:  # noqa: BLE001 - recorded under the lock, like a failure of apply
        return exc


def process_event(*, event_id: int, replay: bool = False, batch: int = 1) -> WebhookEvent | None:
    """Process one journal row. Without `replay`, only rows still to do are processed; `replay` re-runs a row in
    any state (handlers are idempotent).

    With `batch` > 1 (the worker's task) the same transaction also takes up to `batch - 1` other pending rows:
    one commit for all of them instead of one each. Should anything in a batch raise, the batch is rolled back
    and its rows are processed one by one, each failure journaled for its own row.
    """
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None or not (replay or _to_do(event)):
        return event
    prepared = _prepare(event)
    if batch > 1 and not replay:
        try:
            own, _taken, remote = _process_batch(event, prepared, size=batch)
        except _BatchFailedError as failed:
            logger.warning("tiktok.webhook.batch_failed", extra={"webhook_event": event_id, "rows": len(failed.ids)})
            for other_id in failed.ids:
                if other_id != event_id:
                    process_event(event_id=other_id)
        else:
            _process_remote(remote)
            return own
    return _process_one(event_id, prepared, replay=replay)


def _drain_batch() -> int:
    """One batch of the oldest pending rows no other worker holds; returns how many rows it took."""
    try:
        _own, taken, remote = _process_batch(None, None, size=PROCESS_BATCH)
    except _BatchFailedError as failed:
        logger.warning("tiktok.webhook.batch_failed", extra={"rows": len(failed.ids)})
        for event_id in failed.ids:
            process_event(event_id=event_id)
        return len(failed.ids)
    _process_remote(remote)
    return taken


def _process_remote(event_ids: list[int]) -> None:
    """Rows that need TikTok (an image's URL, a comment's text): read first, outside any lock, the comments of one
    video in shared calls (handlers.prepare_many); then each row is applied in its own transaction."""
    if not event_ids:
        return
    rows = [row for row in WebhookEvent.objects.filter(pk__in=event_ids).order_by("id") if _to_do(row)]
    for row, prepared in zip(rows, handlers.prepare_many(rows), strict=True):
        _process_one(row.pk, prepared, replay=False)


def _process_one(
    event_id: int, prepared: handlers.Inbound | handlers.Outcome | Exception, *, replay: bool
) -> WebhookEvent | None:
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
            outcome = _apply_retrying_deadlocks(prepared, event)
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


# PostgreSQL's transient conflicts: it aborted this transaction so that another could go on; trying again is right.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
TRANSIENT_RETRIES = 3


def _apply_retrying_deadlocks(prepared: handlers.Inbound | handlers.Outcome, event: WebhookEvent) -> handlers.Outcome:
    """Apply one row in a savepoint of the caller's transaction; a deadlock with another worker rolls back only
    the savepoint and the row is applied again (up to TRANSIENT_RETRIES times) instead of being journaled as
    failed until the sweeper's next retry."""

    def apply() -> handlers.Outcome:
        with transaction.atomic():
            outcome = handlers.apply(prepared, event=event)
            handlers.touch_accounts([(prepared, event)])
        return outcome

    for attempt in range(1, TRANSIENT_RETRIES):
        try:
            return apply()
        except DatabaseError as exc:
            if getattr(exc.__cause__, "sqlstate", None) not in TRANSIENT_SQLSTATES:
                raise
            logger.warning("tiktok.webhook.transient_conflict", extra={"webhook_event": event.pk, "attempt": attempt})
    return apply()


class _BatchFailedError(Exception):
    def __init__(self, ids: list[int]):
        super().__init__(f"batch of {len(ids)} rows failed")
        self.ids = ids


def _lock_order(item: tuple[WebhookEvent, object]) -> tuple[str, str, int]:
    # Rows of one conversation touch the same client, conversation and variable rows. Applying every batch in
    # this order makes two workers take those row locks in the same order, so two batches never deadlock; and
    # rows of one conversation stay in arrival order.
    event = item[0]
    return (event.business_id, event.conversation_id, event.pk)


def _process_batch(
    event: WebhookEvent | None, prepared: handlers.Inbound | handlers.Outcome | Exception | None, *, size: int
) -> tuple[WebhookEvent | None, int, list[int]]:
    """Apply `event` (prepared outside) and up to `size` - 1 other pending rows in one transaction.

    Returns (the locked `event`, rows taken, ids of taken rows left out because they need a remote read)."""
    ids: list[int] = [event.pk] if event is not None else []
    try:
        with transaction.atomic():
            work: list[tuple[WebhookEvent, handlers.Inbound | handlers.Outcome | Exception]] = []
            locked = None
            if event is not None:
                # SKIP LOCKED: a row locked by another worker is being processed there (in its batch); waiting
                # would only find it done. Should that worker die, the row stays pending and is taken again.
                locked = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event.pk).first()
                if locked is None or not _to_do(locked):
                    return locked or event, 0, []
                work.append((locked, prepared))
            now = timezone.now()
            others = (
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(status=WebhookEvent.Status.PENDING)
                # Rows another worker is reading from TikTok for (below), unless it died at it.
                .exclude(fetching_until__gt=now)
                .order_by("next_attempt_at")
            )
            if event is not None:
                others = others.exclude(pk=event.pk)
            accounts: dict = {}
            remote = []
            for other in others[: size - len(work)]:
                ready = handlers.prepare(other, remote=False, accounts=accounts)
                if ready is None:  # needs TikTok: processed on its own once this batch is committed
                    remote.append(other.pk)
                else:
                    work.append((other, ready))
            if remote:
                # Read after this commit, outside any lock: claimed so that other workers do not ask TikTok too.
                WebhookEvent.objects.filter(pk__in=remote).update(fetching_until=now + PROCESSING_LEASE)
            work.sort(key=_lock_order)
            ids = [row.pk for row, _ in work]
            applied = []
            for row, ready in work:
                row.attempts += 1
                row.processed_at = now
                if isinstance(ready, Exception):  # the task's own row: its remote read failed
                    _record_failure(row, ready, now)
                else:
                    applied.append((ready, row))
            # Consecutive rows of one kind are written set-wise (handlers.apply_many).
            outcomes = handlers.apply_many(applied)
            done: dict[tuple, list[int]] = {}
            for (_ready, row), outcome in zip(applied, outcomes, strict=True):
                row.status, row.error, row.next_attempt_at = outcome.status, outcome.note[:ERROR_CHARS], None
                done.setdefault((row.status, row.error, row.account_id), []).append(row.pk)
                logger.debug(
                    "tiktok.webhook.processed",
                    extra={"webhook_event": row.pk, "event": row.event, "status": outcome.status},
                )
            handlers.touch_accounts(applied)
            # One UPDATE per distinct outcome (usually one for the whole batch).
            for (status, error, account_id), pks in done.items():
                WebhookEvent.objects.filter(pk__in=pks).update(
                    status=status,
                    error=error,
                    account_id=account_id,
                    attempts=F("attempts") + 1,
                    next_attempt_at=None,
                    processed_at=now,
                )
    except Exception as exc:
        raise _BatchFailedError(ids) from exc
    if work:
        logger.info("tiktok.webhook.batch_processed", extra={"rows": len(work), "remote": len(remote)})
    return locked, len(work) + len(remote), remote


def _record_failure(event: WebhookEvent, exc: Exception, now: dt.datetime) -> None:
    logger.error(
        "tiktok.webhook.process_failed",
        extra={"webhook_event": event.pk, "event": event.event},
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    event.status = WebhookEvent.Status.FAILED
    event.error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
    event.next_attempt_at = _retry_at(event.attempts, now)
    event.save(update_fields=["status", "error", "attempts", "next_attempt_at", "processed_at"])


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


def prunable(now: dt.datetime) -> models.QuerySet | None:
    """The finished journal rows (processed, ignored, or failed with no retry due) received more than
    TIKTOK_JOURNAL_RETENTION_DAYS before `now`; None when the journal is kept forever. Pending rows and rows with
    a retry due are never among them."""
    before = retention.cutoff(now, settings.TIKTOK_JOURNAL_RETENTION_DAYS)
    if before is None:
        return None
    return WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED, WebhookEvent.Status.FAILED],
        next_attempt_at__isnull=True,
        received_at__lt=before,
    )


def prune(*, now: dt.datetime | None = None, budget_seconds: float = retention.TIME_BUDGET_SECONDS) -> int:
    """Delete the `prunable` rows, within the time budget; returns how many went (the beat's schedule, and
    `manage.py prune_retention`)."""
    return retention.prune(
        prunable(now or timezone.now()), event="tiktok.webhook.pruned", budget_seconds=budget_seconds
    )
