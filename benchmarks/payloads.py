"""Signed webhook deliveries for the benchmark, made from the test suite's real payload files.

Each event is a copy of a fixture (`tests/fixtures/tiktok/<name>.json`) with fresh ids, signed with the real
algorithm (`channels_tiktok.webhooks.wire.compute_signature`) at the time it is made (valid for the tolerance).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from channels_tiktok.webhooks.wire import compute_signature

from .load import SignedRequest

# The signing key django-anymail's receiver checks (benchmarks/peers.py) and `mailgun_events` signs with.
MAILGUN_SIGNING_KEY = "bench-mailgun-signing-key"
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiktok"


def fixture(name: str) -> tuple[dict, dict]:
    """A fixture's envelope and its `content` document, parsed."""
    envelope = json.loads((FIXTURES / f"{name}.json").read_text())
    return envelope, json.loads(envelope["content"])


def sign(body: bytes, *, secret: str, timestamp: int | None = None) -> SignedRequest:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return SignedRequest(
        signature=f"t={timestamp},s={compute_signature(body=body, secret=secret, timestamp=timestamp)}", body=body
    )


def user_id(number: int) -> str:
    return f"-000bench{number:08d}_usr"


def message_id(run: int, number: int) -> str:
    # 19 digits like TikTok's, unique per run and event.
    return f"9{run % 1_000_000:06d}{number:012d}"


def direct_messages(
    *, app_id: str, secret: str, business_id: str, count: int, users: int, run: int
) -> list[SignedRequest]:
    """`count` text messages (`im_receive_msg`) from `users` different people, each with its own message id."""
    envelope, content = fixture("im_receive_msg_text")
    now = int(time.time())
    signed = []
    for number in range(count):
        user = user_id(number % users)
        message = {
            **content,
            "conversation_id": f"0:1:bench{number % users:08d}+E",
            "message_id": message_id(run, number),
            "timestamp": now * 1000 + number % 1000,
            "from": user,
            "from_user": {**content["from_user"], "id": user, "username": f"user{number % users}"},
            "to": business_id,
            "to_user": {**content["to_user"], "id": business_id},
            "unique_identifier": user,
            "text": {"body": f"message {number} of the benchmark"},
        }
        body = {
            **envelope,
            "client_key": app_id,
            "create_time": now,
            "user_openid": business_id,
            "content": json.dumps(message, separators=(",", ":")),
        }
        signed.append(sign(json.dumps(body, separators=(",", ":")).encode(), secret=secret, timestamp=now))
    return signed


def mailgun_events(*, signing_key: str, count: int, run: int) -> list[SignedRequest]:
    """`count` Mailgun "delivered" tracking events, each signed in its body as Mailgun signs them (HMAC-SHA256 of
    timestamp + token with the webhook signing key), for django-anymail's receiver. No signature header."""
    now = int(time.time())
    signed = []
    for number in range(count):
        token = f"{run:06d}{number:044d}"
        signature = hmac.new(signing_key.encode(), f"{now}{token}".encode(), hashlib.sha256).hexdigest()
        body = {
            "signature": {"timestamp": str(now), "token": token, "signature": signature},
            "event-data": {
                "event": "delivered",
                "timestamp": now + number / 1000,
                "id": f"bench-{run}-{number}",
                "recipient": f"user{number}@example.com",
                "message": {"headers": {"message-id": f"<{run}.{number}@example.com>"}},
                "delivery-status": {"code": 250, "message": "OK", "description": ""},
                "tags": [],
                "user-variables": {},
            },
        }
        signed.append(SignedRequest(signature="", body=json.dumps(body, separators=(",", ":")).encode()))
    return signed
