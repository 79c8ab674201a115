"""A stand-in for the bot builder's callback endpoint: records every pushed bot event and answers as told.

    python -m scripts.bot_receiver --port 9000 --secret s3cret    # prints each event; point a project at it

The stack tests start it in a thread (`BotReceiver(secret=...).start()`), read `pushes` and may script the
answers: `script(predicate, [500, 200])` answers the first push of an event matching `predicate` with a 500 and
every later one with 200; other events get `default_status`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Push:
    """One POST received: the raw body, the headers, whether the signature is valid, the status answered."""

    body: bytes
    headers: dict[str, str]
    signature_valid: bool
    answered: int
    at: float

    @property
    def event(self) -> dict:
        return json.loads(self.body)


def signature_valid(*, body: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    """`X-Signature: t=<unix>,s=<hex HMAC-SHA256 of "t." + body>` with the project's callback secret."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "s" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["s"])


class BotReceiver:
    def __init__(self, *, secret: str, host: str = LOOPBACK, port: int = 0, default_status: int = 200):
        self.secret = secret
        self.default_status = default_status
        self._scripts: list[tuple[Callable[[dict], bool], list[int]]] = []
        self.pushes: list[Push] = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    answered = receiver._answer(body)
                    receiver.pushes.append(
                        Push(
                            body=body,
                            headers=dict(self.headers.items()),
                            signature_valid=signature_valid(
                                body=body, header=self.headers.get("X-Signature", ""), secret=receiver.secret
                            ),
                            answered=answered,
                            at=time.time(),
                        )
                    )
                    receiver._cond.notify_all()
                self.send_response(answered)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if answered < 300 else b'{"error": "bot builder is down"}')

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    def script(self, predicate: Callable[[dict], bool], statuses: list[int]) -> None:
        """Answer pushes of events matching `predicate` with `statuses` in turn (the last one repeats)."""
        with self._lock:
            self._scripts.append((predicate, list(statuses)))

    def _answer(self, body: bytes) -> int:
        try:
            event = json.loads(body)
        except ValueError:
            return 400
        for predicate, statuses in self._scripts:
            if predicate(event):
                return statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return self.default_status

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/bot/events/"

    def start(self) -> BotReceiver:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def events(self, *, delivered_only: bool = True) -> list[dict]:
        """The events pushed so far (by default those we answered with a 2xx), oldest first."""
        with self._lock:
            return [p.event for p in self.pushes if not delivered_only or p.answered < 300]

    def wait_for(self, predicate, *, timeout: float) -> list[Push]:
        """Wait until `predicate(pushes)` is true; returns the pushes. Raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.pushes):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"bot receiver: condition not met after {timeout}s; got {len(self.pushes)}")
                self._cond.wait(remaining)
            return list(self.pushes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True, help="the project's callback secret")
    args = parser.parse_args()
    receiver = BotReceiver(secret=args.secret, port=args.port).start()
    print(f"bot receiver on {receiver.url}")  # noqa: T201
    seen = 0
    try:
        while True:
            pushes = receiver.wait_for(lambda p, seen=seen: len(p) > seen, timeout=3600)
            for push in pushes[seen:]:
                mark = "signed" if push.signature_valid else "BAD SIGNATURE"
                print(f"[{mark}] {push.event.get('type')}: {push.event.get('text')!r}")  # noqa: T201
            seen = len(pushes)
    except KeyboardInterrupt:
        receiver.stop()


if __name__ == "__main__":
    main()
