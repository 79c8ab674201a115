"""A tiny HTTP server on 127.0.0.1 serving test images, redirects and endless streams."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64


class ImageServer:
    """Routes: path -> ("body", bytes, headers) | ("redirect", location) | ("stall", bytes_before_stall)
    | ("drip", seconds_between_bytes[, bytes]) (a PNG's bytes one at a time)
    | ("drip_headers", seconds_between_bytes)."""

    def __init__(self):
        self.routes: dict[str, tuple] = {}
        self.requests: list[dict] = []
        self.sent_bytes: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append({"path": self.path, "host": self.headers.get("Host")})
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                kind = route[0]
                if kind == "redirect":
                    self.send_response(302)
                    self.send_header("Location", route[1])
                    self.end_headers()
                elif kind == "body":
                    body, headers = route[1], route[2] if len(route) > 2 else {}
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                elif kind in ("drip", "drip_headers"):
                    # Each byte well within any per-read timeout, the whole never ending in time.
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                    if kind == "drip":
                        self.wfile.write(head + b"\r\n")
                        drip = (PNG * 1000)[: route[2] if len(route) > 2 else None]
                    else:
                        drip = head + b"X-Slow: " + b"a" * 10_000
                    for byte in drip:
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            break
                        time.sleep(route[1])
                    self.close_connection = True
                elif kind == "stall":
                    # No Content-Length: the client cannot know the size; send `n` bytes, then hang.
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.end_headers()
                    sent, chunk = 0, PNG + b"\x00" * (64 * 1024 - len(PNG))
                    while sent < route[1]:
                        part = chunk[: route[1] - sent]
                        try:
                            self.wfile.write(part)
                        except OSError:
                            break
                        sent += len(part)
                        chunk = b"\x00" * len(chunk)
                    server.sent_bytes[self.path] = sent
                    time.sleep(route[2] if len(route) > 2 else 3)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def image_server():
    server = ImageServer()
    yield server
    server.close()
