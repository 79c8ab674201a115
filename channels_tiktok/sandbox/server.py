"""Serving the sandbox over real HTTP: a threaded stdlib WSGI server, in a thread (tests) or in the foreground
(`manage.py run_sandbox`).

    server = SandboxServer(port=0).start()      # a free port
    server.url            # "http://127.0.0.1:54321"
    server.api_base_url   # ".../open_api/v1.3/"      -> TIKTOK_API_BASE_URL
    server.authorize_url  # ".../v2/auth/authorize/"  -> TIKTOK_AUTHORIZE_URL
    server.sandbox        # the Sandbox (state, configure, control, reset)
    server.stop()
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from channels_tiktok.sandbox.app import API_PREFIX, AUTHORIZE_PATH, Sandbox
from channels_tiktok.sandbox.client import LocalControl, SandboxControl
from channels_tiktok.sandbox.config import Config
from channels_tiktok.sandbox.faults import DropConnectionError

logger = logging.getLogger(__name__)


class _ServerHandler(ServerHandler):
    def handle_error(self):
        """A dropped connection (failure injection) gets no answer at all; anything else is a logged 500."""
        if isinstance(sys.exc_info()[1], DropConnectionError):
            self.close()
            return
        super().handle_error()

    def log_exception(self, exc_info):
        logger.error("sandbox.server.error", exc_info=exc_info)


class _RequestHandler(WSGIRequestHandler):
    # Answers go out in more than one write: with Nagle's algorithm on, a kept-alive client would wait for its
    # own delayed ACK (40 ms on Linux) before the rest arrives.
    disable_nagle_algorithm = True

    def get_environ(self):
        environ = super().get_environ()
        environ["sandbox.socket"] = self.connection
        environ["sandbox.arrived"] = self.arrived
        return environ

    def handle(self):
        # wsgiref's handle(), with our handler (quiet drops) and multithread=True.
        self.raw_requestline = self.rfile.readline(65537)
        self.arrived = time.monotonic()  # TikTok counts a call against the app's QPS when it arrives
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())

    def log_message(self, format, *args):
        logger.debug("sandbox.server.request %s", format % args)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class PortInUseError(OSError):
    """The sandbox's port is taken (another sandbox, another `make run`): the sandbox does not start."""

    def __init__(self, host: str, port: int):
        super().__init__(errno.EADDRINUSE, f"port {port} on {host} is already in use")
        self.host, self.port = host, port


class SandboxServer:
    """The sandbox on `host:port` (port 0: a free one). `start()` serves in a daemon thread and returns self.

    Binding comes first: on a taken port it raises `PortInUseError` before the sandbox exists."""

    def __init__(
        self, sandbox: Sandbox | None = None, *, host: str = "127.0.0.1", port: int = 0, config: Config | None = None
    ):
        try:
            self.httpd = _ThreadingWSGIServer((host, port), _RequestHandler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(host, port) from None
            raise
        self.sandbox = sandbox or Sandbox(config)
        self.httpd.set_app(self.sandbox)
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def authorize_url(self) -> str:
        return self.url + AUTHORIZE_PATH

    @property
    def control(self) -> LocalControl:
        """The control surface in-process (`LocalControl`): deliveries it causes run in the caller's thread."""
        return self.sandbox.control

    @property
    def http_control(self) -> SandboxControl:
        """The control surface over HTTP (`SandboxControl`)."""
        return SandboxControl(self.url)

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="tiktok-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.sandbox.deliverer.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
