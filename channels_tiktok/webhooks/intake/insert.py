"""The journal's INSERT: one statement for a batch of rows, `ON CONFLICT (dedupe_key) DO NOTHING`.

Written once from the model: every column but the id; each value prepared by its field as the ORM prepares it, the
ones a delivery never sets (their defaults) once per connection vendor. What is skipped is the ORM's per-call work
(a model instance, query compilation), which cost several times the INSERT itself on the hottest path of the
service (B10). A duplicate delivery is no error (no exception, no ERROR line in PostgreSQL's log for each of
TikTok's retries); RETURNING tells new rows from duplicates.

On PostgreSQL the statement goes with server-side binding (psycopg's RawCursor, `$n` placeholders) and is
prepared on its connection: the values travel apart from the SQL and PostgreSQL plans it once. It runs on the
calling thread's Django connection (the group commit's leader: autocommit, so it commits by itself). A connection
kept per process for it was measured and dropped: no gain beyond the run-to-run spread of the benchmark.
"""

import functools
from typing import Any

import psycopg
from django.db import DatabaseError, connections, models, router
from django.db.backends.utils import CursorWrapper

from channels_tiktok.models import WebhookEvent

_INSERTED_FIELDS = [field for field in WebhookEvent._meta.concrete_fields if not field.primary_key]
_NAMED_FIELDS = [(field.attname, field) for field in _INSERTED_FIELDS]
_UNSET = object()
# A plain CharField or TextField (not a subclass, which could prepare its values) stores a str as given: such
# values skip the field's preparation calls (ten a delivery); anything else, an enum member included, is prepared.
_STR_AS_IS = frozenset(
    field.attname for field in _INSERTED_FIELDS if type(field) in (models.CharField, models.TextField)
)
# What a write of one row can fail with: the database refusing a value, or a value that cannot be sent to it
# (ValueError: a str the driver cannot encode, say).
ROW_ERRORS = (DatabaseError, ValueError)


@functools.cache
def _insert_sql(vendor: str, rows: int) -> str:
    quote = connections[router.db_for_write(WebhookEvent)].ops.quote_name
    meta = WebhookEvent._meta
    columns = ", ".join(quote(field.column) for field in _INSERTED_FIELDS)
    width = len(_INSERTED_FIELDS)
    if vendor == "postgresql":
        # PostgreSQL's own placeholders: psycopg parses `%s` again on every execution once a query has more than
        # 50 parameters (four journal rows), 0.08 of the 0.18 ms of CPU a four-row batch cost the web process.
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


def insert(rows: list[dict[str, object]]) -> list[int | None]:
    """Insert journal rows in one statement, skipping any whose dedupe key is already journaled (or repeats an
    earlier row of the list); returns each row's new id, or None for a duplicate. On the thread's Django
    connection: inside a caller's transaction, or committed by itself. Query logging and execute wrappers (tests,
    debug tools) see it."""
    connection = connections[router.db_for_write(WebhookEvent)]
    vendor = connection.vendor
    defaults = _defaults(vendor)
    params: list[Any] = [
        defaults[name]
        if (value := values.get(name, _UNSET)) is _UNSET
        else value
        if type(value) is str and name in _STR_AS_IS
        else field.get_db_prep_save(value, connection)
        for values in rows
        for name, field in _NAMED_FIELDS
    ]
    sql = _insert_sql(vendor, len(rows))
    if vendor == "postgresql":
        connection.ensure_connection()
        opened = _wrapped(connection, psycopg.RawCursor(connection.connection))
    else:
        opened = connection.cursor()
    with opened as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    inserted = {key: pk for pk, key in returned}
    # RETURNING follows no order: rows are matched by key; of two rows with one key, the first was inserted.
    return [inserted.pop(values["dedupe_key"], None) for values in rows]


def write_batch(rows: list[dict[str, object]]) -> list[int | Exception | None]:
    """The group commit's write: one statement for the batch, committed by itself. Should it fail for a reason
    one row could carry (a value the database refuses or the driver cannot send), every row is tried alone, so
    that only that delivery fails; a database that is down fails each of them, and TikTok retries each."""
    try:
        written: list[int | Exception | None] = list(insert(rows))
        return written
    except ROW_ERRORS:
        if len(rows) == 1:
            raise
    outcomes: list[int | Exception | None] = []
    for values in rows:
        try:
            outcomes.extend(insert([values]))
        except ROW_ERRORS as exc:
            outcomes.append(exc)
    return outcomes


def _wrapped(connection: Any, raw: psycopg.Cursor) -> CursorWrapper:
    """A psycopg cursor wrapped as Django wraps its own: errors as Django's, seen by query logging and execute
    wrappers."""
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
