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
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _queue: list[_Waiting] = field(default_factory=list, repr=False)
    _leading: bool = field(default=False, repr=False)

    def submit(self, item: Any) -> Any:
        """Write `item` with whatever else is queued; returns its outcome once committed, or raises its error."""
        mine = _Waiting(item)
        with self._cond:
            self._queue.append(mine)
            while self._leading and not mine.done:
                self._cond.wait()
            if mine.done:  # written by another thread's batch
                return mine.result()
            self._leading = True
            others = [waiting for waiting in self._queue if waiting is not mine][: self.max_batch - 1]
            batch = [mine, *others]
            taken = set(map(id, batch))
            self._queue = [waiting for waiting in self._queue if id(waiting) not in taken]
        try:
            self._write(batch)
        finally:
            with self._cond:
                self._leading = False
                for waiting in batch:
                    waiting.done = True
                self._cond.notify_all()
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
