"""Webhooks as TikTok sends them: the envelope, the `TikTok-Signature` header, delivery with bounded retries,
and a log of every attempt.

Tests may import `sign` / `signature_header` / `build_envelope` to make payloads exactly like TikTok's:

    body = build_envelope(client_key="test-app", event="im_receive_msg", user_openid="sbx-acct-mx-001",
                          content={...}, create_time=int(time.time()))
    headers = {"TikTok-Signature": signature_header("test-secret", body)}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from channels_tiktok import constants
from channels_tiktok.sandbox import variety
from channels_tiktok.sandbox.state import Delivery

if TYPE_CHECKING:
    from channels_tiktok.sandbox.config import Config
    from channels_tiktok.sandbox.state import SandboxState


class Parts(Protocol):
    """What the deliverer uses of the sandbox (its core, which owns the deliverer): the state and the current
    configuration."""

    state: SandboxState
    config: Config


logger = logging.getLogger(__name__)

# (url, body, headers, timeout) -> HTTP status. Raises on a network error.
Transport = Callable[[str, bytes, dict, float], int]

# The scope an account must have granted the app for TikTok to send it each subscription's events (§3).
SUBSCRIPTION_SCOPE = {
    constants.WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE: constants.SCOPE_MESSAGE_READ,
    constants.WEBHOOK_EVENT_TYPE_COMMENT: constants.SCOPE_COMMENT_LIST,
}


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `f"{t}." + body` keyed with the app secret (§5)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the `TikTok-Signature` header: `t=<unix seconds>,s=<hex>`."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},s={sign(secret, body, timestamp)}"


def build_envelope(*, client_key: str, event: str, user_openid: str, content: dict, create_time: int) -> bytes:
    """The raw body TikTok POSTs: `content` is a JSON document encoded as a string inside the JSON envelope."""
    envelope = {
        "client_key": client_key,
        "event": event,
        "create_time": int(create_time),
        "user_openid": user_openid,
        "content": json.dumps(content, ensure_ascii=False),
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


def http_transport(url: str, body: bytes, headers: dict, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class Deliverer:
    """Emits events to the app's subscribed callback URL and keeps the delivery log (`state.deliveries`)."""

    def __init__(self, sandbox: Parts, transport: Transport = http_transport):
        self.sandbox = sandbox
        self.transport = self.default_transport = transport
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    # ------------------------------------------------------------------------------ emitting
    def emit(self, event: str, business_id: str, content: dict, *, mode: str = "sync", start: bool = True) -> Delivery:
        """Record one event and deliver it: `sync` (now, in this thread; retries continue in the background),
        `async` (in a background thread; with `start=False` the caller starts it later with `start`) or `manual`
        (pending until `flush`)."""
        state = self.sandbox.state
        config = self.sandbox.config
        with state.lock:
            event_type = constants.EVENT_SUBSCRIPTION[event]
            callback_url = state.subscriptions.get(event_type)
            delivery_id = state.next_delivery_id()
            create_time = int(state.clock.now())
            if config.variety:
                content, create_time = variety.vary(
                    state, event, content, seed=config.variety_seed, create_time=create_time, delivery_id=delivery_id
                )
            body = build_envelope(
                client_key=config.app_id,
                event=event,
                user_openid=business_id,
                content=content,
                create_time=create_time,
            )
            delivery = Delivery(delivery_id, event, business_id, callback_url, body, state.clock.now())
            delivery.mode = mode
            if callback_url is None:
                delivery.status = "no_subscription"
            elif SUBSCRIPTION_SCOPE[event_type] not in state.granted_scopes(business_id):
                delivery.status = "not_authorized"  # the account has not granted the app this event's scope
            state.deliveries.append(delivery)
        if delivery.status != "pending" or mode == "manual":
            return delivery
        if mode == "async":
            if start:
                self.start(delivery)
        else:
            self.attempt(delivery)
            if delivery.status == "pending":
                self._in_background(delivery, first_delay=config.retry_backoff_seconds)
        return delivery

    def start(self, delivery: Delivery) -> None:
        """Deliver a recorded event in a background thread."""
        if delivery.status == "pending":
            self._in_background(delivery, first_delay=0.0)

    def flush(self) -> list[Delivery]:
        """Deliver every pending event now, in this thread, oldest first (for `echo_mode=manual`)."""
        with self.sandbox.state.lock:
            pending = [d for d in self.sandbox.state.deliveries if d.status == "pending" and d.mode == "manual"]
        for delivery in pending:
            self.attempt(delivery)
        return pending

    def redeliver(self, delivery: Delivery) -> dict:
        """Send an event again, as TikTok's at-least-once delivery does (a duplicate if it was delivered)."""
        return self.attempt(delivery, force=True)

    # ------------------------------------------------------------------------------ attempts
    def attempt(self, delivery: Delivery, *, force: bool = False) -> dict:
        config = self.sandbox.config
        state = self.sandbox.state
        if delivery.callback_url is None and force:
            delivery.callback_url = state.subscriptions.get(constants.EVENT_SUBSCRIPTION[delivery.event])
        if delivery.callback_url is None:
            return {"status": None, "error": "no subscription"}
        timestamp = int(state.clock.now())
        headers = {
            "Content-Type": "application/json",
            constants.SIGNATURE_HEADER: signature_header(config.webhook_secret, delivery.body, timestamp),
            "User-Agent": "TikTok-Webhook-Sandbox",
        }
        started = time.monotonic()
        record: dict = {"at": timestamp, "status": None, "error": ""}
        try:
            record["status"] = self.transport(
                delivery.callback_url, delivery.body, headers, config.delivery_timeout_seconds
            )
        except Exception as exc:  # noqa: BLE001 - any failure of the receiver is a failed attempt, as for TikTok
            record["error"] = f"{type(exc).__name__}: {exc}"
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        with state.lock:
            delivery.attempts.append(record)
            if record["status"] == 200:
                delivery.status = "delivered"
            elif len(delivery.attempts) > config.retry_attempts and delivery.status == "pending":
                delivery.status = "failed"
        # Failures are worth a line in the sandbox's console; every success would drown it.
        logger.log(
            logging.DEBUG if record["status"] == 200 else logging.WARNING,
            "sandbox.webhook.attempt",
            extra={"event": delivery.event, "delivery_id": delivery.delivery_id, "status": record["status"]},
        )
        return record

    def _in_background(self, delivery: Delivery, *, first_delay: float) -> None:
        def run():
            delay = first_delay
            while delivery.status == "pending" and not self._stopping.wait(delay):
                self.attempt(delivery)
                delay = self.sandbox.config.retry_backoff_seconds * 2 ** (len(delivery.attempts) - 1)

        threading.Thread(target=run, name=f"sandbox-webhook-{delivery.delivery_id}", daemon=True).start()
