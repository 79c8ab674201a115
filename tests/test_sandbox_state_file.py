"""`make run`'s sandbox: `run_sandbox --state-file` keeps TikTok's world across restarts (SIGTERM saves it)."""

import signal
import socket
import subprocess
import sys
import time

import requests
from django.conf import settings

from channels_tiktok.sandbox import SandboxControl


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int, state_file: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port), "--state-file", state_file],
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/sandbox/state/", timeout=1)
            return process
        except requests.ConnectionError:
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "the sandbox did not answer"
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=10)
    return output.decode()


def test_the_state_file_survives_a_restart_like_make_run_does_it(tmp_path):
    port, state_file = free_port(), str(tmp_path / "sandbox-state.pickle")
    first = start(port, state_file)
    try:
        control = SandboxControl(f"http://127.0.0.1:{port}")
        tokens = control.issue_token(account="sbx-acct-mx-001")
        control.user_writes(text="antes del reinicio")
    finally:
        output = stop(first)
    assert f"Saved the sandbox's state to {state_file}." in output

    second = start(port, state_file)
    try:
        page = requests.get(f"http://127.0.0.1:{port}/sandbox/", timeout=5).text
        messages = control.messages()["messages"]
        state = control.state()
    finally:
        stop(second)

    assert [m["body"] for m in messages] == [{"body": "antes del reinicio"}]
    assert "antes del reinicio" in page
    granted = next(a for a in state["accounts"] if a["business_id"] == "sbx-acct-mx-001")["granted_scopes"]
    assert granted
    assert tokens["access_token"] not in page
