"""Helpers for webhook tests: real fixture payloads, TikTok's signing algorithm, and the shared security cases
every receiver test inherits (after anymail's `webhook_cases`)."""

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from channels_tiktok.models import WebhookEvent
from clients.models import BotEvent, Message

FIXTURES = Path(__file__).parent / "fixtures" / "tiktok"
WEBHOOK_URL = "/webhooks/tiktok/"
SECRET = "test-secret"  # settings.TIKTOK_APP_SECRET[0] in config.settings.test
OLD_SECRET = "old-test-secret"  # the second secret of the list: a rotation in progress
BUSINESS_ID = "-000AbCdEfGhIjKlMnOpQrStUvWxYz_biz"  # user_openid of every fixture
USER_ID = "-000ZyXwVuTsRqPoNmLkJiHgFeDcBa_usr"  # the writing user's unique_identifier
CONVERSATION_ID = "0:1:7301234567890123456:7287654321098765432+E"
VIDEO_ID = "7438011223344556677"
COMMENT_ID = "7439122334455667788"

FIXTURE_NAMES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def body_of(name: str) -> bytes:
    """The fixture as TikTok sends it: compact JSON bytes."""
    return (FIXTURES / f"{name}.json").read_bytes()


def content_of(name: str) -> dict:
    return json.loads(load(name)["content"])


def with_content(name: str, **changes) -> bytes:
    """The fixture with fields of its `content` changed (a new message id, another comment...)."""
    envelope = load(name)
    content = json.loads(envelope["content"])
    content.update(changes)
    envelope["content"] = json.dumps(content, separators=(",", ":"))
    return json.dumps(envelope).encode()


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    """TikTok's algorithm, written out independently of the product: HMAC-SHA256(secret, f"{t}." + body)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def post(client, body: bytes, *, signature: str | None = "sign", **headers):
    """POST a delivery to the receiver; `signature="sign"` signs it correctly, None sends no header."""
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["TikTok-Signature"] = signature
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", headers=headers)


class WebhookSecurityCases:
    """The receiver's security contract. A subclass provides `delivery` (the body to post); every test checks
    that a rejected delivery leaves nothing stored and nothing queued."""

    @pytest.fixture
    def delivery(self) -> bytes:
        raise NotImplementedError

    @pytest.fixture
    def rejected(self, client, django_capture_on_commit_callbacks):
        """Post, then assert nothing was stored, logged, emitted or queued. Returns the response."""

        def _post(body: bytes, signature: str | None):
            with django_capture_on_commit_callbacks() as callbacks:
                response = post(client, body, signature=signature)
            assert response.status_code in (400, 401), response.content
            assert callbacks == []
            assert WebhookEvent.objects.count() == 0
            assert Message.objects.count() == 0
            assert BotEvent.objects.count() == 0
            return response

        return _post

    def test_correctly_signed_is_accepted(self, client, delivery, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks() as callbacks:
            response = post(client, delivery)
        assert response.status_code == 200
        assert WebhookEvent.objects.count() == 1
        assert len(callbacks) == 1  # processing is queued after the commit

    def test_rotated_secret_is_accepted(self, client, delivery):
        response = post(client, delivery, signature=sign(delivery, secret=OLD_SECRET))
        assert response.status_code == 200
        assert WebhookEvent.objects.count() == 1

    def test_tampered_body(self, delivery, rejected):
        signature = sign(delivery)
        tampered = delivery.replace(b"test-app", b"evil-app")
        assert tampered != delivery
        assert rejected(tampered, signature).status_code == 401

    def test_wrong_secret(self, delivery, rejected):
        assert rejected(delivery, sign(delivery, secret="not-the-secret")).status_code == 401

    def test_stale_timestamp(self, delivery, rejected, settings):
        old = int(time.time()) - settings.TIKTOK_WEBHOOK_TOLERANCE_SECONDS - 5
        assert rejected(delivery, sign(delivery, timestamp=old)).json() == {"code": "stale_timestamp"}

    def test_future_timestamp(self, delivery, rejected, settings):
        future = int(time.time()) + settings.TIKTOK_WEBHOOK_TOLERANCE_SECONDS + 5
        assert rejected(delivery, sign(delivery, timestamp=future)).status_code == 401

    def test_within_tolerance_both_ways(self, client, delivery, settings):
        tolerance = settings.TIKTOK_WEBHOOK_TOLERANCE_SECONDS
        early = post(client, delivery, signature=sign(delivery, timestamp=int(time.time()) - tolerance + 5))
        late = post(client, delivery, signature=sign(delivery, timestamp=int(time.time()) + tolerance - 5))
        assert (early.status_code, late.status_code) == (200, 200)

    def test_missing_header(self, delivery, rejected):
        assert rejected(delivery, None).json() == {"code": "missing_signature"}

    @pytest.mark.parametrize("header", ["", "garbage", "t=,s=", "s=abcdef", "t=1700000000", "t=abc,s=00"])
    def test_malformed_header(self, delivery, rejected, header):
        assert rejected(delivery, header).status_code == 400

    def test_signature_of_another_timestamp(self, delivery, rejected):
        now = int(time.time())
        digest = sign(delivery, timestamp=now - 1).split("s=")[1]
        assert rejected(delivery, f"t={now},s={digest}").status_code == 401


def deliver(client, capture, body: bytes) -> WebhookEvent | None:
    """Post a signed delivery and run what it queued after commit (processing runs in-process in tests).
    Returns the journal row of that delivery (the existing one for a duplicate)."""
    with capture(execute=True):
        response = post(client, body)
    assert response.status_code == 200, response.content
    return WebhookEvent.objects.order_by("-id").first()
