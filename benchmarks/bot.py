"""The benchmark's bot: a bot builder's callback endpoint, in a process of its own, that answers every push at
once and writes one JSON line per push (when it arrived, its type and message id). With `--reply-to`, it answers a
`client.message` whose text starts with "rt " through the product's send API, as a bot would, and writes when the
reply started and ended (the bot's own time is what lies between the push's arrival and the reply's start).

    python -m benchmarks.bot --port 9100 --log pushes.jsonl [--reply-to http://127.0.0.1:8000 --api-key KEY]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--reply-to", default="", help="the product's base URL (loopback) to answer through")
    parser.add_argument("--api-key", default="")
    args = parser.parse_args(argv)
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 - open for the process's life, a line per write
    lock = threading.Lock()
    replies = ThreadPoolExecutor(max_workers=8)
    target = urlsplit(args.reply_to) if args.reply_to else None
    if target is not None and target.hostname != LOOPBACK:
        raise SystemExit("the bench bot answers on loopback only")

    def write(record: dict) -> None:
        with lock:
            log.write(json.dumps(record) + "\n")

    def reply(client_id: int, marker: str) -> None:
        started = time.time()
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            connection.request(
                "POST",
                f"/api/v1/clients/{client_id}/messages/",
                body=json.dumps({"text": f"re {marker}"}),
                headers={"Authorization": f"Api-Key {args.api_key}", "Content-Type": "application/json"},
            )
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            connection.close()
        write({"reply": marker, "started": started, "ended": time.time(), "status": status})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a bot builder's endpoint behind any web server would
        # The status line and headers go out in one write and the body in another: with Nagle's algorithm on, the
        # body waits for the client's delayed ACK (40 ms on Linux) on every push of a kept-alive connection.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            try:
                event = json.loads(body)
            except ValueError:
                return
            data = event.get("data") or {}
            text = event.get("text") or ""
            write({"type": event.get("type"), "message_id": data.get("message_id"), "text": text, "arrived": arrived})
            if target is not None and event.get("type") == "client.message" and text.startswith("rt "):
                replies.submit(reply, event["client"]["id"], text[3:])

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
