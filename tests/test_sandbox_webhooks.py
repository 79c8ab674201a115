"""The sandbox's webhooks: TikTok's envelope and signature, the content of each event, the echo of a send
(after or before the answer), comments and replies, retries, redelivery, and who gets what."""

import hashlib
import hmac
import json
import re
import time

import pytest

from channels_tiktok import constants
from tests.sandbox import call_api

ACCOUNT = "sbx-acct-mx-001"


def verify(request, secret):
    """TikTok's algorithm, written out independently of the sandbox's code."""
    header = request["headers"]["tiktok-signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["s"]) and abs(time.time() - int(parts["t"])) < 300


@pytest.fixture
def token(sandbox):
    return sandbox.control.issue_token(account=ACCOUNT)["access_token"]


def test_user_message_is_delivered_signed_like_tiktok(sandbox, webhook_receiver, token):
    result = sandbox.control.user_writes(user="sbx-user-lucia", text="Hola 👋")

    assert result["delivery"]["duration_ms"] >= 0  # how long the receiver took to answer
    assert result["delivery"] | {"delivery_id": 0, "duration_ms": 0} == {
        "delivery_id": 0,
        "duration_ms": 0,
        "event": "im_receive_msg",
        "status": "delivered",
        "http_status": 200,
        "error": "",
        "attempts": 1,
    }
    [request] = webhook_receiver.requests
    assert verify(request, sandbox.sandbox.config.app_secrets[0])
    assert not verify(request, "another-secret")
    assert request["headers"]["content-type"] == "application/json"
    envelope = json.loads(request["body"])
    assert set(envelope) == {"client_key", "event", "create_time", "user_openid", "content"}
    assert envelope["client_key"] == sandbox.sandbox.config.app_id
    assert envelope["event"] == "im_receive_msg"
    assert envelope["user_openid"] == ACCOUNT
    assert isinstance(envelope["create_time"], int)
    assert abs(envelope["create_time"] - time.time()) < 5
    assert isinstance(envelope["content"], str)
    content = json.loads(envelope["content"])
    assert content == {
        "conversation_id": result["conversation_id"],
        "message_id": result["message_id"],
        "timestamp": content["timestamp"],
        "type": "text",
        "from": "lucia.mx",
        "from_user": {"id": "sbx-user-lucia", "role": "personal_account"},
        "to": "taqueria_sandbox",
        "to_user": {"id": ACCOUNT, "role": "business_account"},
        "unique_identifier": "sbx-user-lucia",
        "text": {"body": "Hola 👋"},
        "is_follower": True,
    }
    assert abs(content["timestamp"] - time.time() * 1000) < 5000  # milliseconds


def test_signing_secret_can_be_rotated(sandbox, webhook_receiver, token):
    sandbox.sandbox.configure(signing_secret="rotated-secret")

    sandbox.control.user_writes(text="hi")

    assert verify(webhook_receiver.requests[0], "rotated-secret")


def test_send_echo_follows_the_answer_with_source_api(sandbox, webhook_receiver, token):
    conversation_id = sandbox.control.user_writes(text="hola")["conversation_id"]
    body = {"business_id": ACCOUNT, "recipient_type": "CONVERSATION", "recipient": conversation_id}

    sent = call_api(
        sandbox,
        "POST",
        constants.PATH_MESSAGE_SEND,
        token=token,
        json=body | {"message_type": "TEXT", "text": {"body": "¡Hola!"}},
    )
    sandbox.control.wait_for_deliveries()

    echo = webhook_receiver.events()[-1]
    assert echo["event"] == "im_send_msg"
    assert verify(webhook_receiver.requests[-1], sandbox.sandbox.config.app_secrets[0])
    content = echo["content_json"]
    assert content["message_id"] == sent["data"]["message"]["message_id"]
    assert content["message_tag"] == {"source": "API"}
    assert content["from_user"] == {"id": ACCOUNT, "role": "business_account"}
    assert content["to_user"] == {"id": "sbx-user-lucia", "role": "personal_account"}
    assert content["text"] == {"body": "¡Hola!"}
    assert content["conversation_id"] == conversation_id


def test_echo_can_arrive_before_the_send_returns(sandbox, webhook_receiver, token):
    conversation_id = sandbox.control.user_writes(text="hola")["conversation_id"]
    sandbox.sandbox.configure(echo_mode="before")
    body = {"business_id": ACCOUNT, "recipient_type": "CONVERSATION", "recipient": conversation_id}

    sent = call_api(
        sandbox,
        "POST",
        constants.PATH_MESSAGE_SEND,
        token=token,
        json=body | {"message_type": "TEXT", "text": {"body": "x"}},
    )

    # No waiting: the echo was delivered while the send was still unanswered.
    assert webhook_receiver.events()[-1]["content_json"]["message_id"] == sent["data"]["message"]["message_id"]


def test_manual_echo_waits_for_flush(sandbox, webhook_receiver, token):
    conversation_id = sandbox.control.user_writes(text="hola")["conversation_id"]
    sandbox.sandbox.configure(echo_mode="manual")
    body = {"business_id": ACCOUNT, "recipient_type": "CONVERSATION", "recipient": conversation_id}

    call_api(
        sandbox,
        "POST",
        constants.PATH_MESSAGE_SEND,
        token=token,
        json=body | {"message_type": "TEXT", "text": {"body": "x"}},
    )
    before = len(webhook_receiver.requests)
    flushed = sandbox.control.flush_deliveries()

    assert before == 1
    assert [d["event"] for d in flushed["deliveries"]] == ["im_send_msg"]
    assert len(webhook_receiver.requests) == 2


def test_button_tap_carries_the_title_and_reply_source(sandbox, webhook_receiver, token):
    conversation_id = sandbox.control.user_writes(text="hola")["conversation_id"]
    template = {
        "type": "QA_BUTTON_CARD",
        "title": "¿Confirmas?",
        "buttons": [
            {"type": "REPLY", "title": "Sí", "id": "confirm-yes"},
            {"type": "REPLY", "title": "No", "id": "no"},
        ],
    }
    body = {"business_id": ACCOUNT, "recipient_type": "CONVERSATION", "recipient": conversation_id}
    sent = call_api(
        sandbox,
        "POST",
        constants.PATH_MESSAGE_SEND,
        token=token,
        json=body | {"message_type": "TEMPLATE", "template": template},
    )

    tap = sandbox.control.user_taps_button(button_id="confirm-yes")

    content = tap["content"]
    assert content["type"] == "text"
    assert content["text"] == {"body": "Sí"}
    assert content["reply_source_payload"] == {
        "reply_source_msg_id": sent["data"]["message"]["message_id"],
        "reply_source_unique_id": "confirm-yes",
    }
    assert tap["delivery"]["status"] == "delivered"


def test_tapping_a_button_never_sent_is_refused(sandbox, token):
    from channels_tiktok.sandbox import SandboxControlError

    sandbox.control.user_writes(text="hola")

    with pytest.raises(SandboxControlError, match="No card"):
        sandbox.control.user_taps_button(button_id="nope")


def test_shared_video_id_may_come_as_a_json_number(sandbox, webhook_receiver, token):
    shared = sandbox.control.user_shares_video(video_id="7300000000000000002")

    raw_content = webhook_receiver.events()[0]["content"]
    assert '"video_id": 7300000000000000002' in raw_content  # a number, exact only if parsed as an int
    assert shared["content"]["type"] == "share_post"
    assert shared["content"]["share_post"]["embed_url"] == "https://www.tiktok.com/embed/v2/7300000000000000002"


def test_restricted_region_user_reaches_the_account_without_content(sandbox, webhook_receiver, token):
    result = sandbox.control.restricted_user_writes(text="Hallo")

    event = webhook_receiver.events()[0]
    assert event["event"] == "im_receive_msg_eu"
    assert event["content_json"] == {
        "to": "taqueria_sandbox",
        "to_user": {"id": ACCOUNT, "role": "business_account"},
        "timestamp": result["content"]["timestamp"],
    }


def test_us_user_is_restricted_too(sandbox, token):
    assert sandbox.control.user_writes(user="sbx-user-joe", text="hi")["event"] == "im_receive_msg_eu"


def test_mark_read_event(sandbox, webhook_receiver, token):
    sandbox.control.user_writes(text="hola")

    read = sandbox.control.user_reads()

    content = webhook_receiver.events()[-1]["content_json"]
    assert webhook_receiver.events()[-1]["event"] == "im_mark_read_msg"
    assert content["read"] == {"last_read_timestamp": read["content"]["timestamp"]}
    assert content["from_user"] == {"id": "sbx-user-lucia", "role": "personal_account"}
    assert content["conversation_id"] == read["conversation_id"]


def test_operator_message_from_the_app_is_echoed_with_source_app(sandbox, webhook_receiver, token):
    sandbox.control.user_writes(text="hola")

    written = sandbox.control.operator_writes(text="Hi, a human here")

    event = webhook_receiver.events()[-1]
    assert event["event"] == "im_send_msg"
    assert event["content_json"]["message_tag"] == {"source": "APP"}
    assert event["content_json"]["message_id"] == written["message_id"]


def test_comment_webhook_has_no_text_and_comment_list_has_it(sandbox, webhook_receiver, token):
    commented = sandbox.control.user_comments(user="sbx-user-pedro", text="¿Tienen envío?")

    event = webhook_receiver.events()[0]
    content = event["content_json"]
    assert event["event"] == "comment.update"
    assert set(content) == {
        "comment_id",
        "video_id",
        "parent_comment_id",
        "comment_type",
        "comment_action",
        "unique_identifier",
        "timestamp",
    }
    assert str(content["comment_id"]) == commented["comment_id"]
    assert content["comment_action"] == "insert"
    assert content["unique_identifier"] == "sbx-user-pedro"
    listed = call_api(
        sandbox,
        "GET",
        constants.PATH_COMMENT_LIST,
        token=token,
        params={
            "business_id": ACCOUNT,
            "video_id": commented["video_id"],
            "comment_ids": json.dumps([commented["comment_id"]]),
        },
    )["data"]["comments"]
    assert [(c["comment_id"], c["text"], c["unique_identifier"], c["username"]) for c in listed] == [
        (commented["comment_id"], "¿Tienen envío?", "sbx-user-pedro", "pedro.co")
    ]


def test_comment_reply_comes_back_as_the_accounts_own_insert(sandbox, webhook_receiver, token):
    commented = sandbox.control.user_comments(text="Precio?")
    body = {"business_id": ACCOUNT, "video_id": commented["video_id"], "comment_id": commented["comment_id"]}

    reply = call_api(sandbox, "POST", constants.PATH_COMMENT_REPLY, token=token, json=body | {"text": "120 MXN"})
    sandbox.control.wait_for_deliveries()

    assert reply["code"] == 0
    assert reply["data"]["parent_comment_id"] == commented["comment_id"]
    assert reply["data"]["text"] == "120 MXN"
    event = webhook_receiver.events()[-1]["content_json"]
    assert str(event["comment_id"]) == reply["data"]["comment_id"]
    assert event["unique_identifier"] == ACCOUNT
    assert event["comment_type"] == "reply"
    assert [c["text"] for c in sandbox.control.comments(video_id=commented["video_id"])] == ["Precio?", "120 MXN"]


def test_comment_reply_rules(sandbox, token):
    commented = sandbox.control.user_comments(text="Precio?")
    body = {"business_id": ACCOUNT, "video_id": commented["video_id"], "comment_id": commented["comment_id"]}
    read_only = sandbox.control.issue_token(account=ACCOUNT, scopes=["comment.list"])["access_token"]

    no_scope = call_api(sandbox, "POST", constants.PATH_COMMENT_REPLY, token=read_only, json=body | {"text": "x"})
    too_long = call_api(sandbox, "POST", constants.PATH_COMMENT_REPLY, token=token, json=body | {"text": "x" * 1201})
    unknown = call_api(
        sandbox, "POST", constants.PATH_COMMENT_REPLY, token=token, json=body | {"comment_id": "1", "text": "x"}
    )

    assert no_scope["code"] == constants.CODE_NO_PERMISSION
    assert "comment.list.manage" in no_scope["message"]
    assert too_long["code"] == constants.CODE_INVALID_PARAM_2
    assert unknown["code"] == constants.CODE_NOT_FOUND


def test_video_list_with_fields(sandbox, token):
    data = call_api(
        sandbox,
        "GET",
        constants.PATH_VIDEO_LIST,
        token=token,
        params={"business_id": ACCOUNT, "fields": json.dumps(["item_id", "caption", "share_url"]), "max_count": 2},
    )["data"]

    assert data["has_more"] is True
    assert [set(v) for v in data["videos"]] == [{"item_id", "caption", "share_url"}] * 2
    assert all(re.fullmatch(r"\d{19}", v["item_id"]) for v in data["videos"])


def test_no_webhook_without_subscription_or_authorisation(sandbox, webhook_receiver):
    # The app is subscribed but the account never authorised it: TikTok sends nothing.
    unauthorised = sandbox.control.user_writes(text="hola")
    sandbox.control.issue_token(account=ACCOUNT, scopes=list(constants.MESSAGING_SCOPES))
    no_comment_scope = sandbox.control.user_comments(text="hola")

    assert unauthorised["delivery"]["status"] == "not_authorized"
    assert no_comment_scope["delivery"]["status"] == "not_authorized"
    assert webhook_receiver.requests == []


def test_failed_delivery_is_retried_then_delivered(sandbox, webhook_receiver, token):
    webhook_receiver.statuses = [500, 503]

    first = sandbox.control.user_writes(text="hola")
    sandbox.control.wait_for_deliveries()

    [delivery] = sandbox.control.deliveries()
    assert first["delivery"]["http_status"] == 500
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["status"] == "delivered"
    assert len({r["body"] for r in webhook_receiver.requests}) == 1  # the same event each time


def test_delivery_gives_up_after_the_configured_attempts(sandbox, webhook_receiver, token):
    sandbox.sandbox.configure(retry_attempts=1)
    webhook_receiver.statuses = [500, 500, 500]

    sandbox.control.user_writes(text="hola")
    sandbox.control.wait_for_deliveries()

    [delivery] = sandbox.control.deliveries()
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == 2


def test_redeliver_sends_a_duplicate(sandbox, webhook_receiver, token):
    delivery_id = sandbox.control.user_writes(text="hola")["delivery"]["delivery_id"]

    sandbox.control.redeliver(delivery_id=delivery_id, times=2)

    assert len(webhook_receiver.requests) == 3
    assert len({r["body"] for r in webhook_receiver.requests}) == 1


def test_unreachable_callback_is_a_failed_attempt(sandbox, token):
    sandbox.control.subscribe(callback_url="http://127.0.0.1:9/webhooks/tiktok/")
    sandbox.sandbox.configure(retry_attempts=0)

    result = sandbox.control.user_writes(text="hola")

    assert result["delivery"]["status"] == "failed"
    assert result["delivery"]["http_status"] is None
    assert "Error" in result["delivery"]["error"]


def test_other_message_types_are_sent_as_tiktok_names_them(sandbox, webhook_receiver, token):
    sandbox.control.user_sends(type="sticker", body={"sticker_id": "42"})

    content = webhook_receiver.events()[0]["content_json"]
    assert (content["type"], content["sticker"]) == ("sticker", {"sticker_id": "42"})
