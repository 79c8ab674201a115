"""Wake-ups gathered per process: at most one call of `wake` per interval, off the request's path (B10).

The webhook receiver answers TikTok once its delivery is committed; making sure the rows get processed
(journal.enqueue_processing: a broker publish in production; without a broker, the processing itself) need not
hold the answer back, nor happen once per delivery: one call for every row committed in the last few milliseconds
does the same work. `add` queues a row's id and returns at once; one daemon thread per process calls `wake` with
every id queued since its last call, no sooner than `interval` seconds after that call. At webhook rates that is
one broker publish per interval instead of one per delivery; a lone delivery waits at most `interval`.

A row whose wake-up is lost with its process (killed within the interval) stays pending and the sweeper queues
it once its lease has passed, as for a task lost by the broker. A process that exits normally wakes first.

Nothing here knows about Django or Celery; `wake` gets the ids and handles its own errors.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(eq=False)
class Wakeups:
    wake: Callable[[list[int]], None]
    interval: float
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _ids: list[int] = field(default_factory=list, repr=False)
    _busy: bool = field(default=False, repr=False)
    _pid: int | None = field(default=None, repr=False)
    _last: float = field(default=0.0, repr=False)

    def add(self, ids: Iterable[int]) -> None:
        """Queue these committed rows for the next wake-up; with no interval, wake for them now."""
        ids = list(ids)
        if not ids:
            return
        if self.interval <= 0:
            self.wake(ids)
            return
        with self._cond:
            self._ensure_thread()
            self._ids.extend(ids)
            self._cond.notify_all()

    def flush(self) -> None:
        """Wake for everything queued, now, in the calling thread (at exit; tests)."""
        with self._cond:
            ids, self._ids = self._ids, []
        if ids:
            self.wake(ids)

    def settle(self, timeout: float) -> bool:
        """Wait until the thread has woken for everything queued and its call has returned; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._ids or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _ensure_thread(self) -> None:
        # One thread per process; a forked child (a gunicorn or Celery worker) starts its own.
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._ids = []
        threading.Thread(target=self._run, name="journal-wakeups", daemon=True).start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._ids:
                    self._cond.wait()
            # Gather whatever else arrives until the interval since the last wake-up has passed.
            pause = self._last + self.interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with self._cond:
                ids, self._ids = self._ids, []
                self._busy = True
            self._last = time.monotonic()
            try:
                self.wake(ids)
            except Exception:  # noqa: BLE001, S110 - `wake` logs its own failures; the thread must live on
                pass
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
