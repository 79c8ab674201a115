"""Failure injection: the next calls of an API path fail the way TikTok's sometimes do (`inject_failure`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from channels_tiktok import constants
from channels_tiktok.sandbox.wire import Response, envelope

logger = logging.getLogger(__name__)

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


def fail(fault: Fault) -> Response | None:
    logger.info("sandbox.fault", extra={"path": fault.path, "mode": fault.mode})
    if fault.mode == "delay":
        time.sleep(fault.delay)
        return None
    if fault.mode == "drop":
        raise DropConnectionError
    if fault.mode == "http_error":
        return Response.text(f"{fault.status} sandbox injected failure", status=fault.status)
    return envelope(code=fault.code, message="System error (sandbox failure injection).")
