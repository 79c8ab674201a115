"""The sandbox's core object: one sandboxed TikTok app's configuration, state, webhook deliverer, app rate
limit and injected failures. The endpoints, the consent page and the control actions take it as their first
argument; `app.Sandbox` adds the WSGI entry point and routing on top.
"""

from __future__ import annotations

import bisect
import json
import secrets
import threading
import time
from collections import deque

from channels_tiktok import constants
from channels_tiktok.sandbox.config import Config
from channels_tiktok.sandbox.faults import FAULT_MODES, Fault
from channels_tiktok.sandbox.state import ECHO_BEFORE, ECHO_MANUAL, Delivery, Media, SandboxState
from channels_tiktok.sandbox.webhooks import Deliverer, Transport, http_transport


class SandboxCore:
    """One sandboxed TikTok app: configuration, state, webhook deliverer, rate limit and faults.

    In-process helpers for tests: `configure(**settings)`, `reset()`, `flush_deliveries()`, `state.snapshot()`.
    """

    def __init__(self, config: Config | None = None, *, transport: Transport = http_transport):
        self.initial_config = config or Config()
        self.config = self.initial_config
        self.state = SandboxState()
        self.deliverer = Deliverer(self, transport)
        self.faults: list[Fault] = []
        self._calls: list[float] = []  # admission times of the recent calls, sorted
        self._local = threading.local()
        # Every Business API request as received (path, method, query, JSON body): tests assert on it.
        self.api_calls: deque[dict] = deque(maxlen=2000)
        # Automatic messages (api/auto_messages.py): id -> item, (business_id, type) -> ENABLE/DISABLE.
        self.auto_messages: dict = {}
        self.auto_status: dict[tuple[str, str], str] = {}
        self.auto_message_seq = 0
        self.comment_likes: set[str] = set()  # comments the business liked (api/moderation.py)

    def reset(self) -> None:
        """Back to the seeded state and the initial configuration (cheap: call it between tests)."""
        with self.state.lock:
            self.state.reset()
            self.config = self.initial_config
            self.faults.clear()
            self._calls.clear()
            self.api_calls.clear()
            self.auto_messages.clear()
            self.auto_status.clear()
            self.comment_likes.clear()
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

    def record_call(self, path: str, request) -> None:
        body = None
        if request.content_type == "application/json" and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
        with self.state.lock:
            self.api_calls.append({"path": path, "method": request.method, "query": request.query, "body": body})

    # ------------------------------------------------------------------------------ rate limit and faults
    def _admit(self, arrived: float | None = None) -> bool:
        """TikTok's per-app QPS (§6): at most `rate_limit_qps` calls of the app, any endpoint, in any rolling
        second (window `(t - 1 s, t]`), counted on arrival. "10 per second" read strictly: a fixed calendar
        second would let 20 calls through across its boundary. Refused calls are not counted.

        `arrived` is when the server read the request line (time.monotonic()): TikTok counts at its edge, not
        when its application gets round to the request, so a call that waited for a thread here is counted
        when it came. Calls may then be admitted out of arrival order: every window holding the new call is
        checked."""
        now = time.monotonic()
        at = min(arrived, now) if arrived is not None else now
        window, limit = constants.RATE_LIMIT_WINDOW_SECONDS, self.config.rate_limit_qps
        with self.state.lock:
            calls = self._calls
            del calls[: bisect.bisect_right(calls, now - 2 * window)]  # older than any arrival still to come
            trial = sorted([*calls, at])
            for end in trial[bisect.bisect_left(trial, at) :]:
                if end - window >= at:
                    break
                if bisect.bisect_right(trial, end) - bisect.bisect_right(trial, end - window) > limit:
                    return False
            bisect.insort(calls, at)
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
