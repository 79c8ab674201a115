"""A one-line progress bar for long management commands (seeding, replays, re-deliveries, key rotation)."""

import functools
import sys
import time
from typing import Any


class Progress:
    """`[#####.....] 500/1000  12.3/s` on one line, redrawn in place; a final newline when done.

    `stream` is the command's stderr (so stdout stays a clean summary); when it is not a terminal the bar is
    drawn only every `every` items and at the end, so logs are not flooded.
    """

    width = 30

    def __init__(self, label: str, total: int, *, stream: Any = None, every: int = 1000) -> None:
        self.label, self.total, self.done = label, total, 0
        self.stream = stream or sys.stderr
        # A management command's OutputWrapper appends a newline unless told not to; a bar draws its own.
        self._write = functools.partial(stream.write, ending="") if hasattr(stream, "ending") else None
        self.every = every
        self.started = time.monotonic()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn_at = 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        finished = self.done >= self.total
        if self._tty or finished or self.done - self._drawn_at >= self.every:
            self._draw(finished)

    def finish(self) -> None:
        """Close the line even if fewer items than announced were done (some were skipped)."""
        if self.done < self.total or self.total == 0:
            self.total = self.done
            self._draw(True)

    def _draw(self, finished: bool) -> None:
        self._drawn_at = self.done
        filled = int(self.width * self.done / self.total) if self.total else self.width
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        end = "\n" if finished else ("\r" if self._tty else "\n")
        (self._write or self.stream.write)(
            f"{self.label:<10} [{'#' * filled}{'.' * (self.width - filled)}] {self.done:>9}/{self.total}"
            f"  {rate:,.0f}/s{end}"
        )
        self.stream.flush()
