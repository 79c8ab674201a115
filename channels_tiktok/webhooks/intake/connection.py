"""The webhook journal's own PostgreSQL connection: one per process, kept open, for the group commit's writes.

Django gives a request thread a pooled connection at its first query and takes it back when the request ends. On
the webhook path that round trip through the pool (checkout, the connection's setup, return) cost more than the
INSERT it wrapped: the intake took about a sixth more deliveries per second without it (B10, measured with the
benchmark's intake part). Only one thread of a process writes the journal at a time (the group commit's leader),
so one connection per process serves every request thread, and its prepared INSERT stays prepared.

The connection is opened from Django's settings for the alias (same server, options and adapters), in autocommit:
each statement commits by itself. Errors are Django's (`DatabaseError` and its subclasses). While Django's query
logging or an execute wrapper is on (tests, debug tools), statements go through Django's cursor wrapper so that
they see them; otherwise they run on a cursor kept with the connection. A connection found broken (the server
restarted, the network dropped it) is closed, and the next write opens a new one; the deliveries of the failed
write are answered 500 and TikTok sends them again.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Sequence

import psycopg
from django.db import connections
from django.db.backends.utils import CursorWrapper

CONNECT_TIMEOUT_SECONDS = 5


def wrap_raw_cursor(django_connection, raw: psycopg.Cursor) -> CursorWrapper:
    """A psycopg cursor wrapped as Django wraps its own: errors as Django's, seen by query logging and execute
    wrappers."""
    if django_connection.queries_logged:
        return django_connection.make_debug_cursor(raw)
    return django_connection.make_cursor(raw)


class IntakeConnection:
    def __init__(self, alias: str):
        self.alias = alias
        self._lock = threading.Lock()
        # The process's journal session, as the one cursor its statements run on (`.connection` is the session).
        self._cursor: psycopg.RawCursor | None = None
        self._pid: int | None = None

    def execute(self, sql: str, params: Sequence[object]) -> list[tuple]:
        """Run one statement on this process's connection (opened if need be) and return its rows.

        The statement is written with PostgreSQL's own placeholders (`$1`, `$2`…): psycopg's RawCursor sends it as
        it is, prepared once per connection. Errors are Django's. Django's query logging and execute wrappers see
        it whenever they are on (tests, debug tools); otherwise it runs on a cursor kept with the connection,
        without Django's wrapping per statement, which cost the web process as much CPU as the round trip (B10).
        """
        django_connection = connections[self.alias]
        with self._lock:
            try:
                with django_connection.wrap_database_errors:
                    cursor = self._open(django_connection)
                    if django_connection.queries_logged or django_connection.execute_wrappers:
                        with wrap_raw_cursor(django_connection, psycopg.RawCursor(cursor.connection)) as wrapped:
                            wrapped.execute(sql, params)
                            return wrapped.fetchall()
                    cursor.execute(sql, params)
                    return cursor.fetchall()
            finally:
                if self._cursor is not None and (self._cursor.connection.broken or self._cursor.connection.closed):
                    self._close()

    def close(self) -> None:
        """Close the connection (the test suite does, before its database is dropped)."""
        with self._lock:
            self._close()

    def _open(self, django_connection) -> psycopg.RawCursor:
        # A connection inherited through fork belongs to the parent: a child opens its own.
        if self._cursor is None or self._pid != os.getpid():
            params = django_connection.get_connection_params()
            params.pop("cursor_factory", None)  # Django's client-side binding cursor is not wanted here
            # Every request thread of the process waits on this write: an unreachable server must fail it soon
            # (TikTok retries), not hold them all until gunicorn's timeout.
            params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
            self._cursor = psycopg.RawCursor(psycopg.Connection.connect(**params, autocommit=True))
            if self._pid is None:
                atexit.register(self.close)  # a clean goodbye to the server when the process ends
            self._pid = os.getpid()
        return self._cursor

    def _close(self) -> None:
        if self._cursor is not None and self._pid == os.getpid():
            self._cursor.connection.close()
        self._cursor = None
