"""One process of the stack, and what starting one needs: the Procfile's commands, free ports, a database and a Redis
database to run against (used by `scripts.stack`)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
LOOPBACK = "127.0.0.1"

WORKER_READY = re.compile(r"\bready\.")


def read_procfile(path: Path = PROCFILE) -> dict[str, str]:
    """`name: command` lines of a Procfile, in order; comments and blank lines skipped."""
    commands = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _sep, command = line.partition(":")
        commands[name.strip()] = command.strip()
    return commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {LOOPBACK}:{port} after {timeout:.0f}s")


def ensure_database(database_url: str, *, fresh: bool) -> None:
    """Create the PostgreSQL database of `database_url` (dropping it first when `fresh`)."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            conn.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


@dataclass
class Process:
    name: str
    command: str
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    port: int | None = None  # a server process (PostgreSQL, Redis): ready when it accepts connections here
    wanted: bool = False  # started and not stopped on purpose: the supervisor restarts it if it exits
    restarts: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def start(self) -> None:
        with self.lock, self.log_path.open("ab") as log:
            self.wanted = True
            # `exec` so the pid we hold is the program itself; a new session so signals reach its children.
            self.popen = subprocess.Popen(  # noqa: S603 - commands come from our own Procfile
                ["/bin/sh", "-c", f"exec {self.command}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send_signal(self, signum: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def stop(self, *, timeout: float = 15, signum: int = signal.SIGTERM) -> None:
        """Warm shutdown (SIGTERM, or `signum`), then SIGKILL for the whole group if it does not end in time."""
        with self.lock:
            self.wanted = False
            if self.popen is None:
                return
            self.send_signal(signum)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.send_signal(signal.SIGKILL)
                self.popen.wait(timeout=5)
            # Children that outlived their parent (a prefork child, a gunicorn worker) go too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the whole group: what a crashed machine or the OOM killer does."""
        with self.lock:
            self.wanted = False
            if self.popen is None:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def restart_if_exited(self, name: str) -> None:
        """The supervisor's check: a process that exited while wanted is started again (its log says so)."""
        with self.lock:
            if self.wanted and self.popen is not None and self.popen.poll() is not None:
                self.restarts += 1
                with self.log_path.open("a") as log:
                    log.write(f"\n[stack] {name} exited with {self.popen.returncode}; restarting\n")
                self.start()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


POSTGRES_BIN = Path("/usr/lib/postgresql")


def _postgres_bin(program: str) -> str:
    versions = sorted(POSTGRES_BIN.glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise RuntimeError(f"PostgreSQL's {program} not found under {POSTGRES_BIN}")
    return str(versions[-1])


def private_postgres(port: int) -> tuple[str, str, Path]:
    """A PostgreSQL server of our own (a fresh data directory, run as the `postgres` user): one a fault test may
    restart without touching the machine's shared server. Returns (command, admin database URL, data directory)."""
    data = Path(tempfile.mkdtemp(prefix="tiktok-pg-"))
    shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
    subprocess.run(  # noqa: S603
        [*as_postgres, _postgres_bin("initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = ["-c", f"listen_addresses={LOOPBACK}", "-c", "max_connections=200"]
    command = " ".join([*as_postgres, _postgres_bin("postgres"), "-D", str(data), "-p", str(port), "-k", str(data)])
    return f"{command} {' '.join(options)}", f"postgres://postgres@{LOOPBACK}:{port}/postgres", data


def private_redis(port: int) -> str:
    """A Redis server of our own (nothing on disk), for a test that takes the broker down."""
    return f"redis-server --bind {LOOPBACK} --port {port} --save '' --appendonly no"
