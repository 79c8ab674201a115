"""The benchmark's own measuring helpers (benchmarks/load.py): what the numbers in RESULTS.md rest on."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import load

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
            assert load.connections_per_process(port, [os.getpid()]) == [3]
            accepted[0].close()
            clients[0].close()
            assert load.connections_per_process(port, [os.getpid()]) == [2]
            assert load.connections_per_process(port + 1 if port < 65535 else port - 1, [os.getpid()]) == [0]
        finally:
            for sock in clients + accepted:
                sock.close()


@linux_proc
def test_child_pids_are_the_processes_started_by_the_parent():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in load.child_pids(os.getpid())
        assert child.pid not in load.child_pids(child.pid)
    finally:
        child.kill()
        child.wait()
