"""A total deadline for an outbound HTTP call: headers and body together, not each read.

Per-read timeouts (urllib3's and requests') let a server that sends a byte now and then hold a thread for as long
as it likes. `Deadline` shuts the call's sockets down when its time is up, so a blocked read returns at once;
the caller then sees a connection error (or a body cut short: check `expired`).

- urllib3 pools: `Deadline.watch_connection` when a connection is taken (see `WatchedPoolMixin`),
  `watch_response` once the headers are in;
- requests: mount `DeadlineAdapter` on the session and make the call inside `with Deadline(...)`; the adapter
  registers every connection it hands out with the deadline active in this thread.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool
from urllib3.response import BaseHTTPResponse

if TYPE_CHECKING:
    _PoolBase = HTTPConnectionPool
else:
    _PoolBase = object

_current = threading.local()


class _Watchdog:
    """One thread per process that expires the deadlines that are due (a timer thread per call would start a
    thread for every HTTP call). Started on first use; a forked child (a Celery pool process, a gunicorn worker)
    starts afresh: threads do not survive fork, and a lock held at that moment would stay held."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._due: list[tuple[float, int, Deadline]] = []
        self._condition = threading.Condition()
        self._sequence = itertools.count()
        self._pid = 0

    def add(self, deadline: Deadline, seconds: float) -> None:
        with self._condition:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="http-deadlines", daemon=True).start()
            heapq.heappush(self._due, (time.monotonic() + max(seconds, 0.0), next(self._sequence), deadline))
            if self._due[0][2] is deadline:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)  # ended in time
                if not self._due:
                    self._condition.wait()
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                deadline = heapq.heappop(self._due)[2]
            deadline._expire()


_watchdog = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_watchdog.reset)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.finished = False
        self._closers: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._outer: Deadline | None = None

    def __enter__(self) -> Deadline:
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        _watchdog.add(self, self.seconds)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.finished = True
        _current.deadline = self._outer

    def watch_connection(self, connection: object) -> None:
        """While the request is sent and the headers read, the connection holds the socket."""

        def close() -> None:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)

        self._add(close)

    def watch_response(self, response: BaseHTTPResponse) -> None:
        """While the body is read: a urllib3 response holds it (http.client may have let go of the connection's)."""
        self._add(response.shutdown)

    def _add(self, closer: Callable[[], object]) -> None:
        with self._lock:
            self._closers.append(closer)
            if self.expired:
                _close(closer)

    def _expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            for closer in self._closers:
                _close(closer)


def _close(closer: Callable[[], object]) -> None:
    with contextlib.suppress(OSError, ValueError, RuntimeError, AttributeError):
        closer()


def current() -> Deadline | None:
    return getattr(_current, "deadline", None)


class WatchedPoolMixin(_PoolBase):
    """For a urllib3 connection pool: every connection it hands out is watched by the thread's deadline."""

    def _get_conn(self, *args: Any, **kwargs: Any) -> Any:
        connection = super()._get_conn(*args, **kwargs)
        deadline = current()
        if deadline is not None:
            deadline.watch_connection(connection)
        return connection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections are watched by the deadline active in the calling thread."""

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> ConnectionPool:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        _watch_pool(pool)
        return pool

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().send(request, *args, **kwargs)
        deadline = current()
        if deadline is not None and hasattr(response.raw, "shutdown"):
            deadline.watch_response(response.raw)
        return response


def _watch_pool(pool: Any) -> None:
    if getattr(pool, "_deadline_watched", False):
        return
    original = pool._get_conn

    def get_conn(*args: Any, **kwargs: Any) -> Any:
        connection = original(*args, **kwargs)
        deadline = current()
        if deadline is not None:
            deadline.watch_connection(connection)
        return connection

    pool._get_conn = get_conn
    pool._deadline_watched = True


def session() -> requests.Session:
    """A requests session whose calls honour the thread's `Deadline`."""
    watched = requests.Session()
    adapter = DeadlineAdapter()
    watched.mount("http://", adapter)
    watched.mount("https://", adapter)
    return watched
