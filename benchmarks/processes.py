"""The processes under measurement, read from /proc: gunicorn's workers, PostgreSQL's backends, their CPU time and
how the load generator's connections fell on them."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def child_pids(pid: int) -> list[int]:
    """The children of `pid` (gunicorn's workers of its master), from /proc; [] where there is none."""
    children: list[int] = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text()
        except OSError:
            continue
        # The field after the command (which may hold spaces and parentheses) is the state, then the parent.
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            children.append(int(entry.parent.name))
    return sorted(children)


def pids_named(name: str) -> list[int]:
    """The processes whose command name is `name` (PostgreSQL's server and backends are all `postgres`)."""
    pids: list[int] = []
    for entry in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if entry.read_text().strip() == name:
                pids.append(int(entry.parent.name))
    return sorted(pids)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU seconds each of `pids` has used so far; a process already gone is left out.

    Keyed by pid so that a phase's use is the difference for the processes alive at both readings: a backend
    that ended meanwhile takes its time with it, which `cpu_used` then does not count."""
    used: dict[int, float] = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        used[pid] = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two `cpu_seconds` readings by the processes present in the second; a process
    started in between counts from its start."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def connections_per_process(port: int, pids: list[int]) -> list[int] | None:
    """How many established TCP connections to local `port` each of `pids` holds (Linux /proc; None elsewhere).

    wrk opens its connections once and keeps them: how they fell on gunicorn's workers (each accepts what it can)
    stays fixed for the run, and the benchmark reports it with each round."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(f"socket:[{fields[9]}]")
    counts = []
    for pid in pids:
        count = 0
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            with contextlib.suppress(OSError):
                count += os.readlink(fd) in inodes
        counts.append(count)
    return counts
