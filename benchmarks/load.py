"""Load generators, all aimed at 127.0.0.1 only and bounded in time or count.

- `run_wrk`: closed-loop maximum throughput with wrk (C, so the client is not what limits the figure).
- `run_fixed_rate`: open-loop requests at a fixed rate (wrk has no rate option); latency is measured from each
  request's *scheduled* start, so a stall of the server shows in the percentiles (no coordinated omission).
- `run_burst`: a fixed list of requests spread over N concurrent clients (the duplicate-delivery burst).
- `run_commit_probe`: PostgreSQL alone, one connection committing a row at a fixed rate: the floor that the disk's
  flush sets under any durable write's latency on this machine, measured the same way as `run_fixed_rate`.
- `run_flush_probe`: the disk alone, a block written and flushed (`fdatasync`) at a fixed rate.
- `cpu_seconds`: CPU time used by a set of processes (from /proc), read before and after a phase.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LUA_SCRIPT = Path(__file__).with_name("webhook.lua")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}


@dataclass(frozen=True)
class SignedRequest:
    signature: str
    body: bytes


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    # When each of `latencies_ms` started (time.perf_counter()), where the generator keeps it; same order.
    started: list[float] = field(default_factory=list, repr=False)
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    status_counts: dict[int, int] = field(default_factory=dict)
    # `run_fixed_rate`: when request i was due, as time.time(): `due_wall + i / rate`.
    due_wall: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def record(self, status: int, latency_ms: float, *, ok: int, started: float | None = None) -> None:
        """One answered (or failed, `status` 0) request; the caller holds the result's lock."""
        self.requests += 1
        self.latencies_ms.append(latency_ms)
        if started is not None:
            self.started.append(started)
        self.status_counts[status] = self.status_counts.get(status, 0) + 1
        if status != ok:
            self.errors += 1

    def finish(self) -> LoadResult:
        if self.latencies_ms:
            self.p50_ms = statistics.median(self.latencies_ms)
            ordered = sorted(self.latencies_ms)
            self.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            self.max_ms = ordered[-1]
        return self


def _run_callers(target: Callable[[], None], count: int, *, timeout: float) -> None:
    """`count` threads running `target` at once; returns when all have ended (or `timeout` passed for each)."""
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)


def check_loopback(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"load goes to loopback only, not {parts.hostname}")
    return parts.hostname, parts.port or 80, parts.path or "/"


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


_WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(ms|s|m)")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(output: str) -> LoadResult:
    total = _WRK_TOTAL.search(output)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests = int(total.group(1))
    seconds = float(total.group(2)) * _UNIT_MS[total.group(3)] / 1000
    errors = int(m.group(1)) if (m := _WRK_NON2XX.search(output)) else 0
    if m := _WRK_SOCKET.search(output):
        errors += sum(int(g) for g in m.groups())
    result = LoadResult(requests=requests, seconds=seconds, errors=errors)
    for percentile, value, unit in _WRK_LATENCY.findall(output):
        ms = float(value) * _UNIT_MS[unit]
        if percentile == "50":
            result.p50_ms = ms
        else:
            result.p99_ms = ms
    return result


def run_wrk(
    url: str,
    requests: list[SignedRequest],
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    signature_header: str = "TikTok-Signature",
) -> LoadResult:
    """wrk at full speed for `seconds`, cycling through `requests` (each thread through its own share)."""
    _host, _port, path = check_loopback(url)
    with tempfile.NamedTemporaryFile("wb", suffix=".tsv", delete=False) as handle:
        for request in requests:
            handle.write(request.signature.encode() + b"\t" + request.body + b"\n")
        requests_file = handle.name
    env = os.environ | {
        "WRK_REQUESTS_FILE": requests_file,
        "WRK_PATH": path,
        "WRK_THREADS": str(threads),
        "WRK_SIGNATURE_HEADER": signature_header,
    }
    try:
        completed = subprocess.run(  # noqa: S603
            [  # noqa: S607 - wrk from PATH (Debian's package, `make wrk`)
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(LUA_SCRIPT),
                url,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        Path(requests_file).unlink(missing_ok=True)
    return parse_wrk(completed.stdout)


class _Connection:
    """One keep-alive HTTP/1.1 connection per client thread; reopened after any error."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, request: SignedRequest, signature_header: str) -> int:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                self.conn.request(
                    "POST",
                    path,
                    body=request.body,
                    headers={"Content-Type": "application/json", signature_header: request.signature},
                )
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def lopsided(counts: list[int] | None) -> bool:
    """Whether one worker of several holds every connection (`connections_per_process`): the load then ran on one
    process whatever the configuration, and the benchmark measures that round again."""
    return counts is not None and len(counts) > 1 and sum(1 for count in counts if count) == 1


def run_fixed_rate(
    url: str,
    requests: list[SignedRequest],
    *,
    rate: float,
    seconds: float,
    signature_header: str,
    clients: int = 16,
) -> LoadResult:
    """Send `rate` requests per second for `seconds` (open loop) and measure latency from the scheduled start."""
    host, port, path = check_loopback(url)
    total = int(rate * seconds)
    next_index = iter(range(total))
    lock = threading.Lock()
    result = LoadResult(requests=0, seconds=0.0, errors=0)
    start = time.perf_counter() + 0.2
    result.due_wall = start + (time.time() - time.perf_counter())

    def client() -> None:
        connection = _Connection(host, port)
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                scheduled = start + index / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                try:
                    status = connection.post(path, requests[index % len(requests)], signature_header)
                except (OSError, http.client.HTTPException):
                    status = 0
                latency_ms = (time.perf_counter() - scheduled) * 1000
                with lock:
                    result.record(status, latency_ms, ok=200, started=scheduled)
        finally:
            connection.close()

    _run_callers(client, clients, timeout=seconds + 60)
    result.seconds = time.perf_counter() - start
    return result.finish()


def run_burst(
    url: str, requests: list[SignedRequest], *, clients: int, signature_header: str, timeout: float = 300
) -> LoadResult:
    """Send every request of `requests` once, from `clients` concurrent keep-alive connections."""
    host, port, path = check_loopback(url)
    queue = iter(requests)
    lock = threading.Lock()
    result = LoadResult(requests=0, seconds=0.0, errors=0)
    deadline = time.monotonic() + timeout
    start = time.perf_counter()

    def client() -> None:
        connection = _Connection(host, port)
        try:
            while time.monotonic() < deadline:
                with lock:
                    request = next(queue, None)
                if request is None:
                    return
                sent = time.perf_counter()
                try:
                    status = connection.post(path, request, signature_header)
                except (OSError, http.client.HTTPException):
                    status = 0
                with lock:
                    result.record(status, (time.perf_counter() - sent) * 1000, ok=200)
        finally:
            connection.close()

    _run_callers(client, clients, timeout=timeout + 10)
    result.seconds = time.perf_counter() - start
    return result.finish()


def run_api_sends(base_url: str, client_ids: list[int], *, api_key: str, seconds: float, clients: int) -> LoadResult:
    """POST a text message to `/api/v1/clients/<id>/messages/` for each id in turn from `clients` concurrent
    callers, for at most `seconds` (or until the ids run out)."""
    host, port, _path = check_loopback(base_url)
    queue = iter(client_ids)
    lock = threading.Lock()
    result = LoadResult(requests=0, seconds=0.0, errors=0)
    start = time.perf_counter()
    deadline = start + seconds

    def caller() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    client_id = next(queue, None)
                if client_id is None:
                    return
                sent = time.perf_counter()
                try:
                    conn.request(
                        "POST",
                        f"/api/v1/clients/{client_id}/messages/",
                        body=json.dumps({"text": f"benchmark message to {client_id}"}),
                        headers={"Content-Type": "application/json", "Authorization": f"Api-Key {api_key}"},
                    )
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                    status = 0
                with lock:
                    result.record(status, (time.perf_counter() - sent) * 1000, ok=201)
        finally:
            conn.close()

    _run_callers(caller, clients, timeout=seconds + 60)
    result.seconds = time.perf_counter() - start
    return result.finish()
