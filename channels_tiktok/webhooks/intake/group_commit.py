"""Group commit: the writes that threads of one process submit at the same moment go to the database together.

The webhook receiver (B10) must not answer TikTok before its delivery is committed, and a commit costs a round trip
and a WAL flush whatever it holds. When several deliveries arrive together (the threads of one gunicorn worker),
the first thread to find no write in progress becomes the leader: it takes every queued item, its own included,
writes them in one statement and one commit, and hands each waiting thread its own outcome. Items that arrive
while it writes queue up for the next leader, one of the waiting threads. A lone request is written at once: no
timer, no added latency, and no extra thread.

Nothing here knows about Django; `write` gets the batch and returns one outcome per item (a value, or an
exception for that item alone); should it raise, every item of the batch gets that exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class _Waiting:
    item: Any
    done: bool = False
    outcome: Any = None
    error: BaseException | None = None
    # Held from the start; released once, by the thread that wakes this one (written, or its turn to lead).
    gate: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.outcome


@dataclass(eq=False)
class GroupCommit:
    write: Callable[[list[Any]], Sequence[Any]]
    # Runs in the leader once the batch's waiters are released, with (item, outcome) of each written item.
    after: Callable[[list[tuple[Any, Any]]], None] | None = None
    max_batch: int = 100
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _queue: list[_Waiting] = field(default_factory=list, repr=False)
    _leading: bool = field(default=False, repr=False)

    def submit(self, item: Any) -> Any:
        """Write `item` with whatever else is queued; returns its outcome once committed, or raises its error."""
        mine = _Waiting(item)
        mine.gate.acquire()
        with self._lock:
            wait = self._leading
            if wait:
                self._queue.append(mine)
            else:
                self._leading = True
        if wait:
            # Each waiting thread sleeps on its own gate: a leader wakes exactly the threads it wrote for, and the
            # one whose turn it is to lead, never the whole queue.
            mine.gate.acquire()
            if mine.done:  # written by another thread's batch
                return mine.result()
        with self._lock:  # this thread leads: it takes the queue (in arrival order) up to the batch's limit
            batch = [mine, *self._queue[: self.max_batch - 1]]
            del self._queue[: self.max_batch - 1]
        try:
            self._write(batch)
        finally:
            for waiting in batch:
                waiting.done = True
            for waiting in batch[1:]:
                waiting.gate.release()
            with self._lock:
                if self._queue:  # hand the lead to the first thread that queued meanwhile
                    self._queue.pop(0).gate.release()
                else:
                    self._leading = False
        if self.after is not None:
            written = [(waiting.item, waiting.outcome) for waiting in batch if waiting.error is None]
            self.after(written)
        return mine.result()

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            outcomes = self.write([waiting.item for waiting in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter; each raises it in its own thread
            for waiting in batch:
                waiting.error = exc
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                waiting.error = outcome
            else:
                waiting.outcome = outcome
