"""The webhook journal's own PostgreSQL connection: one per process, kept open, for the group commit's writes.

Django gives a request thread a pooled connection at its first query and takes it back when the request ends. On
the webhook path that round trip through the pool (checkout, the connection's setup, return) cost more than the
INSERT it wrapped: the intake took about a sixth more deliveries per second without it (B10, measured with the
benchmark's intake part). Only one thread of a process writes the journal at a time (the group commit's leader),
so one connection per process serves every request thread, and its prepared INSERT stays prepared.

The connection is opened from Django's settings for the alias (same server, options and adapters), in autocommit:
each statement commits by itself. Statements go through Django's cursor wrapper, so errors are Django's
(`DatabaseError` and its subclasses) and query logging and execute wrappers see them. A connection found broken
(the server restarted, the network dropped it) is closed, and the next write opens a new one; the deliveries of
the failed write are answered 500 and TikTok sends them again.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
        self._connection: psycopg.Connection | None = None
        self._pid: int | None = None

    @contextmanager
    def cursor(self) -> Iterator[CursorWrapper]:
        """A cursor on this process's connection (opened if need be), wrapped like Django's own cursors.

        psycopg's RawCursor: statements use PostgreSQL's own placeholders (`$1`, `$2`…), sent as written."""
        django_connection = connections[self.alias]
        with self._lock:
            with django_connection.wrap_database_errors:
                connection = self._open(django_connection)
            wrapped = wrap_raw_cursor(django_connection, psycopg.RawCursor(connection))
            try:
                with wrapped:
                    yield wrapped
            finally:
                if connection.broken or connection.closed:
                    self._close()

    def close(self) -> None:
        """Close the connection (the test suite does, before its database is dropped)."""
        with self._lock:
            self._close()

    def _open(self, django_connection) -> psycopg.Connection:
        # A connection inherited through fork belongs to the parent: a child opens its own.
        if self._connection is None or self._pid != os.getpid():
            params = django_connection.get_connection_params()
            params.pop("cursor_factory", None)  # Django's client-side binding cursor is not wanted here
            # Every request thread of the process waits on this write: an unreachable server must fail it soon
            # (TikTok retries), not hold them all until gunicorn's timeout.
            params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
            self._connection = psycopg.Connection.connect(**params, autocommit=True)
            if self._pid is None:
                atexit.register(self.close)  # a clean goodbye to the server when the process ends
            self._pid = os.getpid()
        return self._connection

    def _close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None
