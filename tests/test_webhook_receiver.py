"""The receiver: verify on the raw body, journal with a dedupe key, answer 200 at once, queue after commit."""

import json
import time

import pytest

from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import wire
from tests import webhook_cases as wc

pytestmark = pytest.mark.django_db


class TestDirectMessageSecurity(wc.WebhookSecurityCases):
    @pytest.fixture
    def delivery(self):
        return wc.body_of("im_receive_msg_text")


class TestCommentSecurity(wc.WebhookSecurityCases):
    @pytest.fixture
    def delivery(self):
        return wc.body_of("comment_update_insert")


EXPECTED_KEYS = {
    "im_receive_msg_text": "im_receive_msg:7440000000000000001",
    "im_receive_msg_image": "im_receive_msg:7440000000000000002",
    "im_receive_msg_share_post": "im_receive_msg:7440000000000000003",
    "im_receive_msg_button_tap": "im_receive_msg:7440000000000000004",
    "im_receive_msg_sticker": "im_receive_msg:7440000000000000005",
    "im_receive_msg_video": "im_receive_msg:7440000000000000006",
    "im_receive_msg_emoji": "im_receive_msg:7440000000000000007",
    "im_receive_msg_reaction": "im_receive_msg:7440000000000000008",
    "im_send_msg_api": "im_send_msg:7440000000000000101",
    "im_send_msg_app": "im_send_msg:7440000000000000102",
    "im_referral_msg": "im_referral_msg:7440000000000000201",
    "unknown_event": "im_reaction_msg:7440000000000000301",
    "comment_update_insert": "comment:7439122334455667788:insert",
    "comment_update_delete": "comment:7439122334455667788:delete",
    "comment_update_hidden": "comment:7439122334455667788:set_to_hidden",
}


@pytest.mark.parametrize("name", wc.FIXTURE_NAMES)
def test_every_fixture_is_journaled_with_its_dedupe_key(client, name, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = wc.post(client, wc.body_of(name))
    assert response.status_code == 200
    row = WebhookEvent.objects.get()
    envelope = wc.load(name)
    assert row.event == envelope["event"]
    assert row.business_id == wc.BUSINESS_ID
    assert row.status == WebhookEvent.Status.PENDING
    assert row.raw_body.encode() == wc.body_of(name)
    assert row.headers["TikTok-Signature"].startswith("t=")
    assert row.dedupe_key == EXPECTED_KEYS.get(name, row.dedupe_key)
    if name not in EXPECTED_KEYS:  # no message or comment id: a hash of the envelope
        assert row.dedupe_key.startswith("sha256:")
    assert len(callbacks) == 1


def test_comment_ids_are_stored_as_exact_strings(client):
    wc.post(client, wc.body_of("comment_update_insert"))
    row = WebhookEvent.objects.get()
    assert row.comment_id == wc.COMMENT_ID
    assert row.conversation_id == ""


def test_the_same_delivery_twice_is_one_row(client, django_capture_on_commit_callbacks):
    body = wc.body_of("im_receive_msg_text")
    with django_capture_on_commit_callbacks() as callbacks:
        first = wc.post(client, body)
        second = wc.post(client, body, signature=wc.sign(body, timestamp=1_700_000_000))
        third = wc.post(client, body)
    assert second.status_code == 401  # a stale retry is still refused by its signature
    assert (first.status_code, third.status_code) == (200, 200)
    assert WebhookEvent.objects.count() == 1
    assert len(callbacks) == 1


def test_a_reserialised_retry_without_ids_is_still_one_row(client):
    envelope = wc.load("im_mark_read_msg")
    wc.post(client, json.dumps(envelope).encode())
    wc.post(client, json.dumps(envelope, indent=2, sort_keys=True).encode())
    assert WebhookEvent.objects.count() == 1


def test_malformed_json_with_a_valid_signature_is_kept_as_failed(client, django_capture_on_commit_callbacks):
    body = b'{"event": "im_receive_msg", "content": '
    with django_capture_on_commit_callbacks() as callbacks:
        response = wc.post(client, body)
    assert response.status_code == 200  # TikTok must not retry it for 72 hours
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.FAILED
    assert row.error.startswith("malformed payload")
    assert row.raw_body == body.decode()
    assert row.next_attempt_at is None
    assert callbacks == []
    wc.post(client, body)
    assert WebhookEvent.objects.count() == 1


def test_content_that_is_not_json_is_malformed(client):
    envelope = wc.load("im_receive_msg_text")
    envelope["content"] = "{not json"
    wc.post(client, json.dumps(envelope).encode())
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.FAILED


def test_an_id_that_went_through_a_float_is_refused_as_malformed(client):
    wc.post(client, wc.with_content("comment_update_insert", comment_id=7.439122334455668e18))
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.FAILED
    assert "floating-point" in row.error


def test_an_id_longer_than_the_key_column_is_journaled_and_still_deduplicated(client):
    body = wc.with_content("im_receive_msg_text", message_id="7" * 400)
    assert wc.post(client, body).status_code == 200
    assert wc.post(client, body).status_code == 200  # TikTok's retry
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.PENDING
    assert row.dedupe_key.startswith("sha256:")
    assert len(row.dedupe_key) <= WebhookEvent._meta.get_field("dedupe_key").max_length


def test_a_lone_surrogate_escape_becomes_a_replacement_character_instead_of_failing_every_retry(client):
    """JSON may escape half of a UTF-16 pair alone (a text cut inside an emoji); no database column can hold what
    that parses to. In the envelope and in `content` alike it is stored as U+FFFD; whole pairs stay emoji."""
    envelope = wc.load("im_receive_msg_text")
    content = json.loads(envelope["content"]) | {
        "conversation_id": "0:1:\udc00:conv",
        "text": {"body": "\ud83d\U0001f600"},
    }
    envelope |= {"user_openid": "business-\ud83d", "content": json.dumps(content)}
    body = json.dumps(envelope).encode()
    assert b"\\ud83d" in body  # escaped in the envelope
    assert b"\\\\udc00" in body  # and twice in `content`
    assert wc.post(client, body).status_code == 200
    assert wc.post(client, body).status_code == 200  # a retry is the same row
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.PENDING
    assert (row.business_id, row.conversation_id) == ("business-\ufffd", "0:1:\ufffd:conv")
    assert row.raw_body == body.decode()  # the delivery as received, escapes and all
    assert wire.parse_envelope(body).content["text"] == {"body": "\ufffd\U0001f600"}


def test_unknown_event_is_stored_and_answered_200(client):
    response = wc.post(client, wc.body_of("unknown_event"))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().event == "im_reaction_msg"


def test_hot_path_is_one_insert(client, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    body = wc.body_of("im_receive_msg_text")
    with django_capture_on_commit_callbacks(), django_assert_max_num_queries(3) as captured:
        assert wc.post(client, body).status_code == 200
    statements = [
        q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) == 1
    assert statements[0].upper().startswith("INSERT")


def test_bad_signature_flood_is_throttled_but_valid_deliveries_are_not(client):
    body = wc.body_of("im_receive_msg_text")
    bad = wc.sign(body, secret="attacker")
    codes = [wc.post(client, body, signature=bad).status_code for _ in range(32)]  # settings: 30/min
    assert codes == [401] * 30 + [429, 429]
    assert wc.post(client, body).status_code == 200
    assert WebhookEvent.objects.count() == 1
    other_ip = client.post(
        wc.WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"TikTok-Signature": bad},
        REMOTE_ADDR="10.9.8.7",
    )
    assert other_ip.status_code == 401


def _forged(client, body, signature, *, forwarded_for, remote="203.0.113.9"):
    return client.post(
        wc.WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"TikTok-Signature": signature, "X-Forwarded-For": forwarded_for},
        REMOTE_ADDR=remote,
    ).status_code


def test_a_rotated_forwarded_for_does_not_escape_the_bad_signature_throttle(client):
    body = wc.body_of("im_receive_msg_text")
    bad = wc.sign(body, secret="attacker")
    codes = [_forged(client, body, bad, forwarded_for=f"198.51.100.{n}") for n in range(32)]
    assert codes == [401] * 30 + [429, 429]


def test_behind_trusted_proxies_the_throttle_counts_the_address_they_saw(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    body = wc.body_of("im_receive_msg_text")
    bad = wc.sign(body, secret="attacker")
    # One proxy: the last X-Forwarded-For entry is the client; what the client wrote left of it is ignored.
    codes = [_forged(client, body, bad, forwarded_for=f"198.51.100.{n}, 192.0.2.7") for n in range(31)]
    assert codes == [401] * 30 + [429]
    # Another client behind the same proxy (same REMOTE_ADDR) is counted on its own.
    assert _forged(client, body, bad, forwarded_for="192.0.2.8") == 401


def test_get_is_not_allowed(client):
    assert client.get(wc.WEBHOOK_URL).status_code == 405
    assert WebhookEvent.objects.count() == 0


def test_signature_helpers_agree_with_the_test_signer():
    body = wc.body_of("im_receive_msg_text")
    header = wc.sign(body, timestamp=1_764_000_000)
    timestamp, signatures = wire.parse_signature_header(header)
    assert timestamp == 1_764_000_000
    assert signatures == [wire.compute_signature(body=body, secret=wc.SECRET, timestamp=timestamp)]


def _headers_tiktok_could_not_send(body: bytes) -> dict[str, str]:
    now = int(time.time())
    digest = wc.sign(body, timestamp=now).split("s=")[1]
    return {
        "400-digit timestamp": f"t={'9' * 400},s={digest}",
        "5000-digit timestamp": f"t={'1' * 5000},s={digest}",
        "non-ASCII signature": f"t={now},s=é{digest[1:]}",
        "short signature": f"t={now},s={digest[:10]}",
        "non-hex signature": f"t={now},s={'z' * 64}",
        "superscript timestamp": f"t=¹{now},s={digest}",
        "oversized header": f"t={now},s={digest}," + "x=" + "a" * 1000,
    }


@pytest.mark.parametrize("name", list(_headers_tiktok_could_not_send(b"")))
def test_headers_tiktok_could_not_send_are_400_with_a_code(client, name):
    body = wc.body_of("im_receive_msg_text")
    response = wc.post(client, body, signature=_headers_tiktok_could_not_send(body)[name])
    assert response.status_code == 400
    assert response.json() == {"code": "malformed_signature_header"}
    assert WebhookEvent.objects.count() == 0


def test_headers_tiktok_could_not_send_count_for_the_bad_signature_throttle(client):
    body = wc.body_of("im_receive_msg_text")
    headers = list(_headers_tiktok_could_not_send(body).values())
    codes = [wc.post(client, body, signature=headers[i % len(headers)]).status_code for i in range(32)]
    assert codes == [400] * 30 + [429, 429]
    assert wc.post(client, body).status_code == 200


def test_bad_signature_throttle_fails_open_when_its_cache_is_down(client, settings):
    # A Redis nobody listens on: the throttle's cache raises on every call.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    body = wc.body_of("im_receive_msg_text")
    rejected = wc.post(client, body, signature=wc.sign(body, secret="attacker"))
    assert (rejected.status_code, rejected.json()) == (401, {"code": "bad_signature"})
    assert wc.post(client, body).status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("where", ["body", "content"])
def test_a_signed_delivery_nested_too_deep_is_journaled_as_failed_and_answered_200(
    client, django_capture_on_commit_callbacks, where
):
    nested = "[" * 950 + "]" * 950
    envelope = wc.load("im_receive_msg_text")
    if where == "body":
        body = json.dumps(envelope)[:-1].encode() + b', "extra": ' + nested.encode() + b"}"
    else:
        content = json.loads(envelope["content"])
        envelope["content"] = json.dumps(content)[:-1] + ', "extra": ' + nested + "}"
        body = json.dumps(envelope).encode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = wc.post(client, body)
    assert response.status_code == 200  # TikTok would retry anything else for 72 hours
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.FAILED
    assert "nested" in row.error
    assert callbacks == []
