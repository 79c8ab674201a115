"""Probes of the machine beside a phase: PostgreSQL alone committing at a fixed rate, the disk alone flushing at a
fixed rate, and the slow spans they share with the phase's own requests."""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from .load import LoadResult, check_loopback


def _paced(action, *, rate: float, seconds: float, errors: tuple[type[Exception], ...] = (OSError,)) -> LoadResult:
    """Call `action` `rate` times a second for `seconds` from this one thread, latency measured from each call's
    scheduled start; a call that raises one of `errors` counts as an error (and the schedule goes on)."""
    result = LoadResult(requests=0, seconds=0.0, errors=0)
    start = time.perf_counter()
    for index in range(int(rate * seconds)):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            action()
        except errors:
            result.errors += 1
            continue
        result.requests += 1
        result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        result.started.append(scheduled)
    result.seconds = time.perf_counter() - start
    return result.finish()


def spans_over(result: LoadResult, threshold_ms: float) -> list[tuple[float, float]]:
    """(start, end) in seconds of the calls of `result` that took longer than `threshold_ms`."""
    return [
        (started, started + latency / 1000)
        for started, latency in zip(result.started, result.latencies_ms, strict=True)
        if latency > threshold_ms
    ]


def overlapping(spans: list[tuple[float, float]], others: list[tuple[float, float]]) -> int:
    """How many of `spans` overlap at least one of `others` (half-open intervals)."""
    return sum(
        any(start < other_end and other_start < end for other_start, other_end in others) for start, end in spans
    )


def run_commit_probe(database_url: str, *, rate: float, seconds: float, row_bytes: int = 1200) -> LoadResult:
    """Commit one row of `row_bytes` into a scratch table `rate` times a second for `seconds`, on one connection
    in autocommit (so each INSERT waits for its WAL flush), latency measured from each insert's scheduled start.

    Nothing of ours runs here: this is what the database and the disk under it cost any durable write on this
    machine at that moment, the floor beneath the webhook's own latency. The table is dropped afterwards."""
    import psycopg  # the benchmark's dependency; the module's other helpers do without it

    if urlsplit(database_url).hostname is not None:  # None: PostgreSQL's local socket
        check_loopback(database_url)
    table = f"bench_commit_probe_{os.getpid()}"
    row = "x" * row_bytes
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, body text NOT NULL)")
        insert = f"INSERT INTO {table} (body) VALUES (%s)"  # noqa: S608 - the table name is ours
        try:
            return _paced(
                lambda: connection.execute(insert, (row,), prepare=True),
                rate=rate,
                seconds=seconds,
                errors=(psycopg.Error,),
            )
        finally:
            connection.execute(f"DROP TABLE {table}")


def run_flush_probe(directory: Path, *, rate: float, seconds: float, block_bytes: int = 8192) -> LoadResult:
    """Write one block and `fdatasync` it `rate` times a second for `seconds`, in a scratch file of `directory`:
    the disk alone, as PostgreSQL's WAL flush meets it (a block of 8 KB, `wal_sync_method = fdatasync`)."""
    block = b"x" * block_bytes
    handle, name = tempfile.mkstemp(prefix="bench-flush-", dir=directory)
    written = itertools.count()

    def flush() -> None:
        os.pwrite(handle, block, (next(written) % 1024) * block_bytes)
        getattr(os, "fdatasync", os.fsync)(handle)  # macOS has no fdatasync

    try:
        return _paced(flush, rate=rate, seconds=seconds)
    finally:
        os.close(handle)
        Path(name).unlink(missing_ok=True)
