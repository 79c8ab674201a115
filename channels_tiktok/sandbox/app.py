"""The sandbox as one WSGI app: routing, TikTok's envelope and `x-tt-logid`, the app rate limit and failure
injection applied to every API call. The tables of what answers where are in `routes.py`.

URL layout (host = the sandbox's `http://127.0.0.1:<port>`):

    /open_api/v1.3/<path>/      the Business API (TIKTOK_API_BASE_URL); without the trailing slash: HTTP 404
    /v2/auth/authorize/         the consent page (TIKTOK_AUTHORIZE_URL)
    /sandbox/                   a human page: a phone view of each conversation and controls to act as a user
    /sandbox/state/             everything the sandbox holds, as JSON (tokens left out)
    /sandbox/control/<action>/  the control surface (see `control/`), JSON in and out
    /sandbox/media/<media_id>/  media download URLs (need `x-user: <access token>`)
    /sandbox/static/<file>      the pages' CSS and JavaScript
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterable
from http import HTTPStatus

from channels_tiktok import constants
from channels_tiktok.sandbox import consent
from channels_tiktok.sandbox.client import LocalControl
from channels_tiktok.sandbox.control import dispatch as control
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.faults import DropConnectionError, fail
from channels_tiktok.sandbox.routes import API_ROUTES
from channels_tiktok.sandbox.wire import ApiError, BadRequestError, Request, Response, envelope

API_PREFIX = "/open_api/v1.3/"
AUTHORIZE_PATH = "/v2/auth/authorize/"


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


class Sandbox(SandboxCore):
    """One sandboxed TikTok app, callable as a WSGI app.

    In-process helpers for tests: `control` (the control surface as Python calls, same results as over HTTP),
    `configure(**settings)`, `reset()`, `flush_deliveries()`, `state.snapshot()`.
    """

    @property
    def control(self) -> LocalControl:
        return LocalControl(self)

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
                return consent.authorize(self, request)
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
        self.record_call(path, request)
        fault = self._take_fault(path)
        if fault and not fault.after:
            failed = fail(fault)
            if failed is not None:
                return failed
        if not self._admit(request.environ.get("sandbox.arrived")):
            response = envelope(code=constants.CODE_RATE_LIMITED, message="Too many requests: the app's QPS limit.")
        else:
            try:
                response = handler(self, request)
            except ApiError as error:
                response = envelope(code=error.code, message=error.message)
        if fault and fault.after:
            return fail(fault) or response
        return response
