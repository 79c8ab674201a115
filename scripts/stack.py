"""Run the production process types of the `Procfile` on loopback, against PostgreSQL and Redis.

    python -m scripts.stack up                 # web + workers + beat (+ the sandbox) until Ctrl-C
    python -m scripts.stack up --no-sandbox    # against whatever TIKTOK_API_BASE_URL says

The same `Stack` class is what the production smoke test, the fault suite and the benchmark drive: it starts each
process type in its own process group (so a signal reaches gunicorn's or Celery's children too), can kill,
stop and restart one of them, and waits for `/healthz` and for the workers to say they are ready. Everything
binds to 127.0.0.1 and each process writes its output to `<run dir>/<name>.log`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from scripts.processes import (
    LOOPBACK,
    ROOT,
    WORKER_READY,
    Process,
    ensure_database,
    flush_redis,
    free_port,
    private_postgres,
    private_redis,
    read_procfile,
    wait_for_port,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tiktok_stack"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
# A fixed key for loopback runs only; production sets its own (see docs/operations.md).
LOOPBACK_FERNET_KEY = "Z3nq2eA2rX2XxqgG1mJ8Xw3k0i3O2b2w5cQ7Wm1yqfU="
SANDBOX_APP_ID = "sandbox-app"
SANDBOX_APP_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox's documented secret, loopback only


@dataclass
class Stack:
    """The Procfile's processes on loopback. Use as a context manager; `close()` stops everything it started."""

    run_dir: Path
    port: int = field(default_factory=free_port)
    database_url: str = field(default_factory=lambda: os.environ.get("STACK_DATABASE_URL", DEFAULT_DATABASE_URL))
    redis_url: str = field(default_factory=lambda: os.environ.get("STACK_REDIS_URL", DEFAULT_REDIS_URL))
    settings_module: str = "config.settings.production"
    sandbox_command: str | None = None
    sandbox_port: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    temporary: list[Path] = field(default_factory=list)  # removed by close()
    _closing: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def sandbox_url(self) -> str | None:
        return f"http://{LOOPBACK}:{self.sandbox_port}" if self.sandbox_port else None

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": self.settings_module,
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "CELERY_BROKER_URL": self.redis_url,
                "PORT": str(self.port),
                # Loopback has no TLS terminator in front: keep plain HTTP working.
                "DJANGO_SECURE_SSL_REDIRECT": "0",
                "DJANGO_ALLOWED_HOSTS": f"{LOOPBACK},localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.setdefault("DJANGO_SECRET_KEY", "loopback-stack-" + "x" * 50)
        env.setdefault("FIELD_ENCRYPTION_KEYS", LOOPBACK_FERNET_KEY)
        env.setdefault("TIKTOK_APP_ID", SANDBOX_APP_ID)
        env.setdefault("TIKTOK_APP_SECRET", SANDBOX_APP_SECRET)
        env.setdefault("WEB_CONCURRENCY", "2")
        env.setdefault("CALLBACK_ALLOWED_HOSTS", LOOPBACK)  # the bot under test listens on loopback
        # Never TikTok itself from loopback runs: without the sandbox, API calls fail fast on a closed port.
        env["TIKTOK_API_BASE_URL"] = f"http://{LOOPBACK}:9/open_api/v1.3/"
        env["TIKTOK_AUTHORIZE_URL"] = f"http://{LOOPBACK}:9/v2/auth/authorize/"
        if self.sandbox_url:
            env["TIKTOK_API_BASE_URL"] = f"{self.sandbox_url}/open_api/v1.3/"
            env["TIKTOK_AUTHORIZE_URL"] = f"{self.sandbox_url}/v2/auth/authorize/"
            env["SANDBOX_PORT"] = str(self.sandbox_port)
        env["TIKTOK_REDIRECT_URI"] = f"{self.base_url}/tiktok/oauth/callback/"
        env["TIKTOK_WEBHOOK_CALLBACK_URL"] = f"{self.base_url}/webhooks/tiktok/"
        # The venv's executables (gunicorn, celery) first, whoever started us.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def python(self, code: str, *, timeout: float = 300) -> object:
        """Run `code` in a fresh process with the stack's settings after `django.setup()`; it assigns `result`,
        which comes back as JSON. How tests and the benchmark seed and inspect the stack's database."""
        program = (
            "import django, json\ndjango.setup()\nresult = None\n"
            + textwrap.dedent(code)
            + "\nprint('\\n@@RESULT@@' + json.dumps(result, default=str))\n"
        )
        completed = subprocess.run(  # noqa: S603
            [sys.executable, "-c", program],
            cwd=ROOT,
            env=self.environment() | {"LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0 or "@@RESULT@@" not in completed.stdout:
            raise RuntimeError(f"stack python failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}")
        return json.loads(completed.stdout.rsplit("@@RESULT@@", 1)[1])

    def prepare(self, *, fresh: bool = False) -> None:
        """Database, schema, static files; an empty Redis db when `fresh`."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.database_url.startswith("postgres"):
            ensure_database(self.database_url, fresh=fresh)
        if fresh:
            flush_redis(self.redis_url)
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("collectstatic", "--no-input", "-v", "0")

    def add(self, name: str, command: str, **env: str) -> Process:
        process_env = self.environment() | env
        process = Process(name=name, command=command, env=process_env, log_path=self.run_dir / f"{name}.log")
        process.log_path.write_bytes(b"")  # a run's log starts empty; restarts append
        self.processes[name] = process
        return process

    def start(self, names: list[str] | None = None, *, wait: bool = True, timeout: float = 60) -> None:
        """Start the Procfile's process types (all, or `names`), plus the sandbox when configured."""
        procfile = read_procfile()
        if self.sandbox_command and "sandbox" not in self.processes:
            self.add("sandbox", self.sandbox_command).start()
            wait_for_port(self.sandbox_port, timeout=timeout)
        for name in names or list(procfile):
            base = name.split("#")[0]
            index = name.split("#")[1] if "#" in name else "1"
            process = self.processes.get(name) or self.add(name, procfile[base], WORKER_INDEX=index)
            if not process.running:
                process.start()
        if wait:
            self.wait_ready(names or list(procfile), timeout=timeout)

    def wait_ready(self, names: list[str], *, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            if name.startswith("web"):
                self.wait_healthy(timeout=max(1, deadline - time.monotonic()))
            elif name.startswith("worker"):
                self.wait_log(name, WORKER_READY, timeout=max(1, deadline - time.monotonic()))

    def wait_healthy(self, *, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                response = requests.get(f"{self.base_url}/healthz", timeout=2)
                last = response.text
                if response.status_code == 200:
                    return response.json()
            except requests.RequestException as exc:
                last = repr(exc)
            self._fail_if_dead("web")
            time.sleep(0.2)
        web_log = self.processes["web"].log_text()[-3000:]
        raise TimeoutError(f"/healthz not ready after {timeout:.0f}s: {last}\n{web_log}")

    def wait_log(self, name: str, pattern: re.Pattern, *, timeout: float, after: int = 0) -> None:
        """Wait until `pattern` appears in the process's log past byte offset `after`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pattern.search(self.processes[name].log_text()[after:]):
                return
            self._fail_if_dead(name)
            time.sleep(0.2)
        raise TimeoutError(f"{name}: {pattern.pattern!r} not seen after {timeout:.0f}s\n{self.logs(name)[-3000:]}")

    def _fail_if_dead(self, name: str) -> None:
        process = self.processes.get(name)
        if process is not None and process.popen is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.popen.returncode}:\n{process.log_text()[-3000:]}")

    def wait_service(self, name: str, port: int, *, timeout: float = 60) -> None:
        """Wait until a server process (PostgreSQL, Redis) accepts connections on `port`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._fail_if_dead(name)
            with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
                if name != "postgres":
                    return
                # PostgreSQL listens before it accepts queries (startup, crash recovery).
                with contextlib.suppress(Exception):
                    ensure_database(self.database_url, fresh=False)
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{name} not ready on port {port} after {timeout:.0f}s\n{self.logs(name)[-3000:]}")

    def restart(self, name: str, *, timeout: float = 60, signum: int = signal.SIGTERM) -> None:
        process = self.processes[name]
        process.stop(signum=signum)
        offset = len(process.log_text())
        process.start()
        if name.startswith("worker"):
            self.wait_log(name, WORKER_READY, timeout=timeout, after=offset)
        elif name.startswith("web"):
            self.wait_healthy(timeout=timeout)
        elif process.port:
            self.wait_service(name, process.port, timeout=timeout)

    def logs(self, name: str) -> str:
        return self.processes[name].log_text()

    def all_logs(self) -> str:
        return "\n".join(f"===== {name}\n{p.log_text()}" for name, p in self.processes.items())

    def supervise(self, *, interval: float = 0.5) -> None:
        """Restart any process that exits on its own, as a production supervisor (systemd `Restart=always`, a
        container orchestrator) does. Celery beat, for one, exits when its database connection breaks."""

        def watch() -> None:
            while not self._closing.wait(interval):
                for name, process in list(self.processes.items()):
                    process.restart_if_exited(name)

        threading.Thread(target=watch, name="stack-supervisor", daemon=True).start()

    def close(self) -> None:
        self._closing.set()
        for process in reversed(list(self.processes.values())):
            process.stop()
        for path in self.temporary:
            shutil.rmtree(path, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def sandbox_command(port: int, *, callback_url: str = "") -> str:
    """How the sandbox runs as its own process (B1), playing the stack's app."""
    command = (
        f"python manage.py run_sandbox --settings config.settings.dev --host {LOOPBACK} --port {port} "
        f"--app-id {SANDBOX_APP_ID} --app-secret {SANDBOX_APP_SECRET}"
    )
    return f"{command} --callback-url {callback_url}" if callback_url else command


def launch(
    name: str,
    *,
    processes: list[str] | None = None,
    sandbox: bool = True,
    extra_env: dict[str, str] | None = None,
    redis_url: str = DEFAULT_REDIS_URL,
    own_redis: bool = False,
    own_postgres: bool = False,
) -> Stack:
    """A fresh stack for one test module: its own database `tiktok_<name>`, an emptied Redis db, free ports, the
    sandbox as its own process subscribed to the stack's webhook URL, and `processes` (default: all) started.
    Logs go to test-artifacts/<name>/. `own_redis` / `own_postgres` run private servers as processes of the
    stack (`redis`, `postgres`) that a test may stop and start. The caller closes it."""
    run_dir = ROOT / "test-artifacts" / name
    run_dir.mkdir(parents=True, exist_ok=True)
    services: list[tuple[str, str, int]] = []
    temporary: list[Path] = []
    admin = urlsplit(os.environ.get("STACK_DATABASE_URL", DEFAULT_DATABASE_URL))
    if own_postgres:
        port = free_port()
        command, admin_url, data = private_postgres(port)
        admin = urlsplit(admin_url)
        temporary.append(data)
        services.append(("postgres", command, port))
    if own_redis:
        port = free_port()
        redis_url = f"redis://{LOOPBACK}:{port}/0"
        services.append(("redis", private_redis(port), port))
    stack = Stack(
        run_dir=run_dir,
        database_url=urlunsplit(admin._replace(path=f"/tiktok_{name}")),
        redis_url=redis_url,
        extra_env={"WEB_CONCURRENCY": "2", "CELERY_INBOUND_CONCURRENCY": "1", **(extra_env or {})},
        temporary=temporary,
    )
    for service, command, port in services:
        process = stack.add(service, command)
        process.port = port
        process.start()
        stack.wait_service(service, port)
    if sandbox:
        stack.sandbox_port = free_port()
        stack.sandbox_command = sandbox_command(stack.sandbox_port, callback_url=f"{stack.base_url}/webhooks/tiktok/")
    try:
        stack.prepare(fresh=True)
        stack.start(processes, timeout=120)
        stack.supervise()
    except BaseException:
        stack.close()
        raise
    return stack


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8001")))
    parser.add_argument("--no-sandbox", action="store_true", help="do not start the TikTok sandbox")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database, empty the Redis db")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "test-artifacts" / "stack")
    args = parser.parse_args(argv)

    # The demo may send images the sandbox serves on loopback; production allows no internal host.
    stack = Stack(run_dir=args.run_dir, port=args.port, extra_env={"IMAGE_FETCH_ALLOWED_HOSTS": LOOPBACK})
    if not args.no_sandbox:
        stack.sandbox_port = args.sandbox_port
        stack.sandbox_command = sandbox_command(args.sandbox_port, callback_url=f"{stack.base_url}/webhooks/tiktok/")
    stack.prepare(fresh=args.fresh)
    # SIGTERM (a supervisor, `timeout`) stops the children as Ctrl-C does: they run in their own sessions.
    signal.signal(signal.SIGTERM, _interrupt)
    with stack:
        stack.start()
        print(f"web      {stack.base_url}/  (health {stack.base_url}/healthz)")  # noqa: T201
        if stack.sandbox_url:
            print(f"sandbox  {stack.sandbox_url}/")  # noqa: T201
        print(f"logs     {args.run_dir}/  — Ctrl-C stops everything")  # noqa: T201
        print(" ".join(shlex.quote(name) for name in stack.processes))  # noqa: T201
        stack.supervise()
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
