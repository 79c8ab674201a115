"""The sandbox as one WSGI app: routing, TikTok's envelope and `x-tt-logid`, the app rate limit, failure
injection, and the `Sandbox` object that ties state, configuration and webhook delivery together.

URL layout (host = the sandbox's `http://127.0.0.1:<port>`):

    /open_api/v1.3/<path>/      the Business API (TIKTOK_API_BASE_URL); without the trailing slash: HTTP 404
    /v2/auth/authorize/         the consent page (TIKTOK_AUTHORIZE_URL)
    /sandbox/                   a human page: seeded accounts and users, conversations, forms to act as a user
    /sandbox/state/             everything the sandbox holds, as JSON (tokens left out)
    /sandbox/control/<action>/  the control surface (see `control.py`), JSON in and out
    /sandbox/media/<media_id>/  media download URLs (need `x-user: <access token>`)
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus

from channels_tiktok import constants
from channels_tiktok.sandbox import api, control, oauth
from channels_tiktok.sandbox.state import ECHO_BEFORE, ECHO_MANUAL, Config, Delivery, Media, SandboxState
from channels_tiktok.sandbox.webhooks import Deliverer, Transport, http_transport
from channels_tiktok.sandbox.wire import ApiError, BadRequestError, Request, Response, envelope

logger = logging.getLogger(__name__)

API_PREFIX = "/open_api/v1.3/"
AUTHORIZE_PATH = "/v2/auth/authorize/"

API_ROUTES = {
    constants.PATH_OAUTH_TOKEN: ("POST", oauth.token),
    constants.PATH_OAUTH_REFRESH: ("POST", oauth.refresh),
    constants.PATH_OAUTH_REVOKE: ("POST", oauth.revoke),
    constants.PATH_TOKEN_INFO: ("POST", oauth.token_info),
    constants.PATH_BUSINESS_GET: ("GET", api.business_get),
    constants.PATH_MESSAGE_SEND: ("POST", api.send),
    constants.PATH_MEDIA_UPLOAD: ("POST", api.media_upload),
    constants.PATH_MEDIA_DOWNLOAD: ("POST", api.media_download),
    constants.PATH_CAPABILITIES: ("GET", api.capabilities),
    constants.PATH_CONVERSATION_LIST: ("GET", api.conversation_list),
    constants.PATH_CONTENT_LIST: ("GET", api.content_list),
    constants.PATH_VIDEO_LIST: ("GET", api.video_list),
    constants.PATH_COMMENT_LIST: ("GET", api.comment_list),
    constants.PATH_COMMENT_REPLY: ("POST", api.comment_reply),
    constants.PATH_WEBHOOK_UPDATE: ("POST", api.webhook_update),
    constants.PATH_WEBHOOK_LIST: ("GET", api.webhook_list),
    constants.PATH_WEBHOOK_DELETE: ("POST", api.webhook_delete),
}

FAULT_MODES = ("http_error", "code", "delay", "drop")


class DropConnectionError(Exception):
    """Raised to close the connection without an answer (failure injection `drop`)."""


@dataclass
class Fault:
    """Failure injection for the next `remaining` calls of an API path (e.g. "business/message/send/").

    mode: `http_error` (HTTP `status`, non-JSON body), `code` (HTTP 200 envelope with `code`, e.g. 50000),
    `delay` (sleep `delay` seconds, then answer normally: makes the caller time out), `drop` (close the
    connection without an answer). `after=True` performs the call first (it took effect on TikTok's side)
    and fails only the answer: the case where retrying a send would post twice.
    """

    path: str
    mode: str
    remaining: int = 1
    code: int = constants.CODE_SYSTEM_ERROR
    status: int = 500
    delay: float = 0.0
    after: bool = False

    def matches(self, path: str) -> bool:
        return self.remaining > 0 and path.strip("/").endswith(self.path.strip("/"))


class _AfterResponse:
    """The response body; WSGI calls `close()` once it is written, which starts what must follow the answer."""

    def __init__(self, body: bytes, callbacks: list):
        self._body = body
        self._callbacks = callbacks

    def __iter__(self) -> Iterable[bytes]:
        yield self._body

    def close(self) -> None:
        for callback in self._callbacks:
            callback()


def new_log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()


class Sandbox:
    """One sandboxed TikTok app: configuration, state, webhook deliverer; callable as a WSGI app.

    In-process helpers for tests: `control` (the control surface as Python calls, same results as over HTTP),
    `configure(**settings)`, `reset()`, `flush_deliveries()`, `state.snapshot()`.
    """

    def __init__(self, config: Config | None = None, *, transport: Transport = http_transport):
        self.initial_config = config or Config()
        self.config = self.initial_config
        self.state = SandboxState()
        self.deliverer = Deliverer(self, transport)
        self.faults: list[Fault] = []
        self._calls: deque[float] = deque()
        self._local = threading.local()

    # ------------------------------------------------------------------------------ control helpers
    @property
    def control(self):
        from channels_tiktok.sandbox.client import LocalControl

        return LocalControl(self)

    def reset(self) -> None:
        """Back to the seeded state and the initial configuration (cheap: call it between tests)."""
        with self.state.lock:
            self.state.reset()
            self.config = self.initial_config
            self.faults.clear()
            self._calls.clear()
            self.deliverer.transport = self.deliverer.default_transport

    def configure(self, **changes) -> Config:
        with self.state.lock:
            self.config = self.config.updated(**changes)
            return self.config

    def add_media(self, business_id: str, content: bytes, content_type: str) -> Media:
        media = Media("sbxmedia-" + secrets.token_hex(12), business_id, content, content_type, self.state.clock.now())
        self.state.media[media.media_id] = media
        return media

    def emit(self, event: str, business_id: str, content: dict, *, mode: str = "sync") -> Delivery:
        return self.deliverer.emit(event, business_id, content, mode=mode)

    def emit_after_api_call(self, event: str, business_id: str, content: dict, *, echo_mode: str) -> None:
        """The webhook an API call causes (send echo, comment reply insert), at the moment `echo_mode` says."""
        if echo_mode == ECHO_BEFORE:
            self.emit(event, business_id, content, mode="sync")
        elif echo_mode == ECHO_MANUAL:
            self.emit(event, business_id, content, mode="manual")
        else:
            # Recorded now (so a test that waits for deliveries sees it), sent once the answer is written.
            delivery = self.deliverer.emit(event, business_id, content, mode="async", start=False)
            after = getattr(self._local, "after", None)
            if after is None:
                self.deliverer.start(delivery)
            else:
                after.append(lambda: self.deliverer.start(delivery))

    def flush_deliveries(self) -> list[Delivery]:
        return self.deliverer.flush()

    # ------------------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict, start_response):
        self._local.after = after = []
        request = Request.from_environ(environ)
        try:
            response = self.dispatch(request)
        except DropConnectionError:
            sock = environ.get("sandbox.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            raise
        finally:
            self._local.after = None
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            (constants.LOG_ID_HEADER, new_log_id()),
            *response.headers,
        ]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        return _AfterResponse(response.body, after)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith(API_PREFIX):
            return self._api(request, path[len(API_PREFIX) :])
        try:
            if path == AUTHORIZE_PATH:
                return oauth.authorize(self, request)
            if path.startswith("/sandbox/"):
                return control.dispatch(self, request, path[len("/sandbox/") :])
        except BadRequestError as exc:
            return Response.json({"error": str(exc)}, status=400)
        return Response.text("404 page not found", status=404)

    def _api(self, request: Request, path: str) -> Response:
        route = API_ROUTES.get(path)
        if route is None:
            return Response.text("404 page not found", status=404)
        method, handler = route
        if request.method != method:
            return Response.text("405 method not allowed", status=405)
        fault = self._take_fault(path)
        if fault and not fault.after:
            failed = self._fail(fault)
            if failed is not None:
                return failed
        if not self._admit():
            response = envelope(code=constants.CODE_RATE_LIMITED, message="Too many requests: the app's QPS limit.")
        else:
            try:
                response = handler(self, request)
            except ApiError as error:
                response = envelope(code=error.code, message=error.message)
        if fault and fault.after:
            return self._fail(fault) or response
        return response

    # ------------------------------------------------------------------------------ rate limit and faults
    def _admit(self) -> bool:
        """TikTok's per-app QPS (§6): at most `rate_limit_qps` calls of the app, any endpoint, in any rolling
        second (window `(now - 1 s, now]`), counted on arrival. "10 per second" read strictly: a fixed calendar
        second would let 20 calls through across its boundary. Refused calls are not counted."""
        now = time.monotonic()
        with self.state.lock:
            while self._calls and self._calls[0] <= now - constants.RATE_LIMIT_WINDOW_SECONDS:
                self._calls.popleft()
            if len(self._calls) >= self.config.rate_limit_qps:
                return False
            self._calls.append(now)
            return True

    def add_fault(self, fault: Fault) -> None:
        if fault.mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {FAULT_MODES}")
        with self.state.lock:
            self.faults.append(fault)

    def _take_fault(self, path: str) -> Fault | None:
        with self.state.lock:
            fault = next((f for f in self.faults if f.matches(path)), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
            return fault

    @staticmethod
    def _fail(fault: Fault) -> Response | None:
        logger.info("sandbox.fault", extra={"path": fault.path, "mode": fault.mode})
        if fault.mode == "delay":
            time.sleep(fault.delay)
            return None
        if fault.mode == "drop":
            raise DropConnectionError
        if fault.mode == "http_error":
            return Response.text(f"{fault.status} sandbox injected failure", status=fault.status)
        return envelope(code=fault.code, message="System error (sandbox failure injection).")
