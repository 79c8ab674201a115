"""`make run`: the product (runserver) and the TikTok sandbox side by side, on the ports `make run` was given.

    python -m scripts.run_dev --port 8000 --sandbox-port 8001

1. Both ports must be free: a taken one is said in one line and nothing starts (exit 1), so the product never
   talks to another instance's sandbox.
2. The product's URLs follow the ports: `DEV_SERVER_URL` (http://HOST:PORT) and `TIKTOK_SANDBOX_URL`
   (http://HOST:SANDBOX_PORT) go to every command, and `config.settings.dev` derives the OAuth redirect URI and
   the webhook callback URL from them unless `TIKTOK_REDIRECT_URI` / `TIKTOK_WEBHOOK_CALLBACK_URL` are set.
3. migrate, setup_dev (the local login, the demo project and its first API key), the sandbox (its webhooks
   subscribed to the product's callback URL), then runserver. Either one ending stops the other; so do Ctrl-C
   and SIGTERM (the sandbox saves its state file on the way out).
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_START_SECONDS = 30.0
STOP_SECONDS = 10.0


class PortTakenError(Exception):
    """A port `make run` needs is in use; the message is the one line the person reads."""


def _bind_check(host: str, port: int) -> None:
    """Bind and release `host:port` the way the servers will (SO_REUSEADDR): raises OSError if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def check_ports(host: str, ports: dict[str, int]) -> None:
    """Raise PortTakenError naming the first of `ports` ({"PORT": 8000, ...}) that cannot be bound on `host`."""
    if len(set(ports.values())) < len(ports):
        raise PortTakenError(f"make run: {' and '.join(ports)} must differ (both are {next(iter(ports.values()))}).")
    for name, port in ports.items():
        try:
            _bind_check(host, port)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortTakenError(
                    f"make run: port {port} on {host} ({name}) is already in use (another `make run`?): "
                    f"stop it or choose other ports, e.g. make run PORT=8010 SANDBOX_PORT=8011."
                ) from None
            raise PortTakenError(f"make run: cannot listen on {host}:{port} ({name}): {error.strerror}.") from None


def public_host(host: str) -> str:
    """The address a browser on this machine uses for a server listening on `host`."""
    return "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 - a comparison, not a bind


def environment(host: str, port: int, sandbox_port: int, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    env["DEV_SERVER_URL"] = f"http://{public_host(host)}:{port}"
    env["TIKTOK_SANDBOX_URL"] = f"http://{public_host(host)}:{sandbox_port}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def callback_url(env: dict[str, str]) -> str:
    """The product's webhook callback URL under `env` (its settings decide: derived or set explicitly)."""
    program = "from django.conf import settings; print(settings.TIKTOK_WEBHOOK_CALLBACK_URL)"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(processes: Sequence[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(host: str, port: int, sandbox_port: int, state_file: str) -> int:
    try:
        check_ports(host, {"PORT": port, "SANDBOX_PORT": sandbox_port})
    except PortTakenError as error:
        print(error, file=sys.stderr)  # noqa: T201
        return 1
    env = environment(host, port, sandbox_port)
    for step in (("migrate", "--no-input", "-v", "0"), ("setup_dev",)):
        if subprocess.run(_manage(*step), cwd=ROOT, env=env, check=False).returncode != 0:  # noqa: S603
            return 1
    sandbox_command = ["run_sandbox", "--host", host, "--port", str(sandbox_port)]
    sandbox_command += ["--callback-url", callback_url(env)]
    if state_file:
        sandbox_command += ["--state-file", state_file]
    processes: list[subprocess.Popen] = []
    # SIGTERM (a `kill`) ends like Ctrl-C: both children are stopped before we exit.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        sandbox = subprocess.Popen(_manage(*sandbox_command), cwd=ROOT, env=env)  # noqa: S603
        processes.append(sandbox)
        deadline = time.monotonic() + SANDBOX_START_SECONDS
        while not _listening(public_host(host), sandbox_port):
            if sandbox.poll() is not None:
                return sandbox.returncode or 1  # it said why, in one line
            if time.monotonic() > deadline:
                print(f"make run: the TikTok sandbox did not start on port {sandbox_port}.", file=sys.stderr)  # noqa: T201
                return 1
            time.sleep(0.1)
        print(  # noqa: T201
            f"The product: {env['DEV_SERVER_URL']}/ (log in as admin / admin) · "
            f"the TikTok sandbox: {env['TIKTOK_SANDBOX_URL']}/sandbox/",
            flush=True,
        )
        server = subprocess.Popen(_manage("runserver", f"{host}:{port}"), cwd=ROOT, env=env)  # noqa: S603
        processes.append(server)
        while True:
            for process in processes:
                if process.poll() is not None:
                    return process.returncode
            time.sleep(0.2)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(processes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--sandbox-port", type=int, default=8001)
    parser.add_argument("--state-file", default=".sandbox-state.pickle", help="empty: the sandbox forgets at exit")
    options = parser.parse_args(argv)
    return run(options.host, options.port, options.sandbox_port, options.state_file)


if __name__ == "__main__":
    sys.exit(main())
