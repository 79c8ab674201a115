"""The benchmark's own measuring helpers (benchmarks/load.py): what the numbers in RESULTS.md rest on."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import load, probes, processes

linux_proc = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")


def test_parse_wrk_reads_rate_latency_and_every_kind_of_error():
    output = """Running 10s test @ http://127.0.0.1:8000/webhooks/tiktok/
  2 threads and 16 connections
  Latency Distribution
     50%    3.25ms
     75%    5.10ms
     90%    9.80ms
     99%   61.02ms
  42300 requests in 10.00s, 8.11MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   4230.00
"""
    result = load.parse_wrk(output)
    assert result.requests == 42300
    assert result.rps == pytest.approx(4230, rel=0.01)
    assert (result.p50_ms, result.p99_ms) == (3.25, 61.02)
    assert result.errors == 4 + 2 + 1 + 3


@linux_proc
def test_connections_are_counted_per_process_holding_the_server_side():
    """Only the accepting side of a connection to the port counts, and only for the process holding it."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            assert processes.connections_per_process(port, [os.getpid()]) == [3]
            accepted[0].close()
            clients[0].close()
            assert processes.connections_per_process(port, [os.getpid()]) == [2]
            assert processes.connections_per_process(port + 1 if port < 65535 else port - 1, [os.getpid()]) == [0]
        finally:
            for sock in clients + accepted:
                sock.close()


@linux_proc
def test_child_pids_are_the_processes_started_by_the_parent():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in processes.child_pids(os.getpid())
        assert child.pid not in processes.child_pids(child.pid)
    finally:
        child.kill()
        child.wait()


@linux_proc
def test_cpu_seconds_tells_a_busy_process_from_an_idle_one():
    busy_then_idle = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "end = time.process_time() + 0.4\n"
            "while time.process_time() < end: pass\n"
            "print('done', flush=True)\n"
            "time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        before = processes.cpu_seconds([busy_then_idle.pid, idle.pid])
        assert busy_then_idle.stdout.readline().strip() == "done"
        after = processes.cpu_seconds([busy_then_idle.pid, idle.pid])
        assert after[busy_then_idle.pid] - before.get(busy_then_idle.pid, 0.0) >= 0.2
        assert after[idle.pid] - before[idle.pid] < 0.05
        assert processes.cpu_used(before, after) >= 0.2
    finally:
        for child in (busy_then_idle, idle):
            child.kill()
            child.wait()
    # A process that has ended is left out of the reading, and so out of what the phase used.
    assert processes.cpu_seconds([busy_then_idle.pid, idle.pid]) == {}
    assert processes.cpu_used(before, {}) == 0.0


@linux_proc
def test_pids_named_finds_the_processes_by_their_command_name():
    own = Path("/proc/self/comm").read_text().strip()
    assert os.getpid() in processes.pids_named(own)
    assert processes.pids_named("no-such-command-here") == []


def test_a_paced_run_keeps_its_schedule_and_counts_failures_as_errors():
    calls = []

    def sometimes_fails():
        calls.append(len(calls))
        if len(calls) % 3 == 0:
            raise OSError("refused")

    result = probes._paced(sometimes_fails, rate=100, seconds=0.3)
    assert len(calls) == 30
    assert (result.requests, result.errors) == (20, 10)
    assert result.seconds >= 0.28  # the 30th call is scheduled 0.29 s after the first
    assert len(result.latencies_ms) == 20
    assert result.p50_ms <= result.p99_ms <= result.max_ms
    # Each call's scheduled start is kept beside its latency: 10 ms apart, the failed ones left out.
    assert len(result.started) == 20
    gaps = [round((b - a) * 1000) for a, b in zip(result.started, result.started[1:], strict=False)]
    assert gaps == [10, 20] * 9 + [10]


def test_slow_calls_are_matched_with_the_stalls_they_overlap():
    result = load.LoadResult(
        requests=4, seconds=3.0, errors=0, latencies_ms=[10.0, 80.0, 60.0, 70.0], started=[0.0, 1.0, 2.0, 3.0]
    )
    slow = probes.spans_over(result, 50)
    assert slow == [(1.0, 1.08), (2.0, 2.06), (3.0, 3.07)]
    # A stall inside the first slow call, one ending exactly as the second starts (no overlap), one spanning the
    # third's end.
    stalls = [(1.02, 1.03), (1.5, 2.0), (3.05, 3.5)]
    assert probes.overlapping(slow, stalls) == 2
    assert probes.overlapping(slow, []) == 0


def test_the_flush_probe_writes_and_flushes_at_its_rate_and_leaves_nothing_behind(tmp_path):
    result = probes.run_flush_probe(tmp_path, rate=50, seconds=0.4)
    assert (result.requests, result.errors) == (20, 0)
    assert result.max_ms >= result.p99_ms >= result.p50_ms > 0
    assert list(tmp_path.iterdir()) == []


def test_the_commit_probe_goes_to_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        probes.run_commit_probe("postgres://postgres@10.0.0.5:5432/x", rate=1, seconds=1)


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the commit probe measures PostgreSQL (the CI suite runs on it)",
)
@pytest.mark.django_db(transaction=True)
def test_the_commit_probe_commits_each_row_and_drops_its_table():
    from django.db import connection

    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    result = probes.run_commit_probe(url, rate=100, seconds=0.2)
    assert (result.requests, result.errors) == (20, 0)
    assert len(result.latencies_ms) == 20
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_commit_probe_%%'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([16, 0, 0], True),
        ([0, 0, 16], True),
        ([15, 1, 0], False),
        ([9, 7, 0], False),
        ([6, 5, 5], False),
        ([16], False),  # one worker configured: nothing to measure again
        ([0, 0, 0], False),  # no connection seen (the sample missed the run)
        (None, False),  # not Linux
    ],
)
def test_a_spread_is_lopsided_only_when_one_worker_of_several_holds_every_connection(counts, expected):
    assert load.lopsided(counts) is expected
