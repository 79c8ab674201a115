"""`POST /api/v1/clients/{id}/messages/`: rules, window, TikTok's cards, images, errors and retries."""

import datetime as dt
import time

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import Conversation, TikTokAccount
from channels_tiktok.tiktok import ratelimit
from clients.models import Message
from tests.factories import ClientFactory, ConversationFactory, MessageFactory
from tests.image_server import GIF, PNG
from tests.outbound_fixtures import *  # noqa: F403
from tests.outbound_fixtures import add_send, envelope, sent_bodies, tiktok_url

pytestmark = pytest.mark.django_db


def url(client) -> str:
    return f"/api/v1/clients/{client.pk}/messages/"


def window_sent(conversation) -> int:
    return Conversation.objects.get(pk=conversation.pk).window_sent


# --- success paths
def test_text_is_sent_logged_and_counted(api, conversation, tiktok):
    add_send(tiktok, message_id="7001")
    response = api.post(url(conversation.client), {"text": "Hello!"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "sent"
    assert body["external_id"] == "7001"
    assert body["direction"] == "out"
    assert body["source"] == "bot"
    assert body["kind"] == "text"
    assert sent_bodies(tiktok) == [
        {
            "business_id": "biz-1",
            "recipient_type": "CONVERSATION",
            "recipient": "0:1:abc+def",
            "message_type": "TEXT",
            "text": {"body": "Hello!"},
        }
    ]
    assert tiktok.calls[0].request.headers[constants.ACCESS_TOKEN_HEADER] == conversation.account.access_token
    message = Message.objects.get(pk=body["id"])
    assert (message.status, message.external_id, message.sent_at is not None) == ("sent", "7001", True)
    assert window_sent(conversation) == 1


def test_callback_buttons_become_a_qa_button_card(api, conversation, tiktok):
    add_send(tiktok)
    buttons = [{"type": "callback", "text": "Yes"}, {"type": "callback", "text": "No"}]
    response = api.post(url(conversation.client), {"text": "Continue?", "buttons": buttons}, format="json")
    assert response.status_code == 201, response.json()
    message_id = response.json()["id"]
    assert sent_bodies(tiktok)[0]["message_type"] == "TEMPLATE"
    assert sent_bodies(tiktok)[0]["template"] == {
        "type": "QA_BUTTON_CARD",
        "title": "Continue?",
        "buttons": [
            {"type": "REPLY", "title": "Yes", "id": f"b{message_id}-1"},
            {"type": "REPLY", "title": "No", "id": f"b{message_id}-2"},
        ],
    }
    assert response.json()["kind"] == "buttons"
    assert [b["id"] for b in response.json()["payload"]["buttons"]] == [f"b{message_id}-1", f"b{message_id}-2"]


def test_url_buttons_become_a_qa_link_card(api, conversation, tiktok):
    add_send(tiktok)
    buttons = [{"type": "url", "text": "Open our catalogue, please", "url": "https://shop.example/catalogue"}]
    response = api.post(url(conversation.client), {"text": "See more", "buttons": buttons}, format="json")
    assert response.status_code == 201, response.json()
    template = sent_bodies(tiktok)[0]["template"]
    assert template["type"] == "QA_LINK_CARD"
    assert template["buttons"][0]["title"] == "Open our catalogue, please"
    assert response.json()["payload"]["buttons"][0]["url"] == "https://shop.example/catalogue"


def add_upload(mock, media_id="media-1"):
    mock.add(responses.POST, tiktok_url(constants.PATH_MEDIA_UPLOAD), json=envelope({"media_id": media_id}))


def add_capability(mock, allowed: bool):
    result = {"capability_infos": [{"capability_type": "IMAGE_SEND", "capability_result": allowed}]}
    mock.add(responses.GET, tiktok_url(constants.PATH_CAPABILITIES), json=envelope(result))


def test_image_from_url_checks_capability_once_uploads_and_sends(api, conversation, tiktok, image_server, settings):
    settings.IMAGE_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    Conversation.objects.filter(pk=conversation.pk).update(image_send_allowed=None, image_checked_at=None)
    image_server.routes["/photo.jpg"] = ("body", PNG, {"Content-Type": "image/jpeg"})
    add_capability(tiktok, True)
    add_upload(tiktok)
    add_send(tiktok, message_id="m-img-1")
    add_send(tiktok, message_id="m-img-2")
    for _ in range(2):
        response = api.post(url(conversation.client), {"image": {"url": image_server.url("/photo.jpg")}}, format="json")
        assert response.status_code == 201, response.json()
    paths = [c.request.path_url.split("?")[0].rsplit("v1.3/", 1)[1] for c in tiktok.calls]
    assert paths.count(constants.PATH_CAPABILITIES) == 1  # cached on the conversation
    assert paths.count(constants.PATH_MEDIA_UPLOAD) == 2
    upload = next(c.request for c in tiktok.calls if constants.PATH_MEDIA_UPLOAD in c.request.url)
    assert b'filename="image.png"' in upload.body  # a PNG named .jpg is sent as what it is
    assert b"Content-Type: image/png" in upload.body
    assert sent_bodies(tiktok)[0]["image"] == {"media_id": "media-1"}
    assert response.json()["kind"] == "image"
    assert response.json()["payload"]["image"]["format"] == "png"
    assert Conversation.objects.get(pk=conversation.pk).image_send_allowed is True


def test_uploaded_image_file_is_sent(api, conversation, tiktok):
    add_upload(tiktok, "media-up")
    add_send(tiktok)
    upload = SimpleUploadedFile("photo.jpg", PNG, content_type="image/jpeg")
    response = api.post(url(conversation.client), {"image": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert sent_bodies(tiktok)[0] == {
        "business_id": "biz-1",
        "recipient_type": "CONVERSATION",
        "recipient": "0:1:abc+def",
        "message_type": "IMAGE",
        "image": {"media_id": "media-up"},
    }


def test_multipart_buttons_as_json_text(api, conversation, tiktok):
    add_send(tiktok)
    data = {"text": "Pick", "buttons": '[{"type": "callback", "text": "A"}]'}
    response = api.post(url(conversation.client), data, format="multipart")
    assert response.status_code == 201, response.json()
    assert sent_bodies(tiktok)[0]["template"]["buttons"][0]["title"] == "A"


# --- refusals before TikTok
def test_image_not_supported_in_this_conversation(api, conversation, tiktok):
    Conversation.objects.filter(pk=conversation.pk).update(image_send_allowed=None, image_checked_at=None)
    add_capability(tiktok, False)
    upload = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    response = api.post(url(conversation.client), {"image": upload}, format="multipart")
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("image_not_supported", "image")]
    assert window_sent(conversation) == 0
    assert not Message.objects.exists()
    assert Conversation.objects.get(pk=conversation.pk).image_send_allowed is False


def test_gif_upload_is_refused_with_its_code(api, conversation, tiktok):
    upload = SimpleUploadedFile("a.png", GIF, content_type="image/png")
    response = api.post(url(conversation.client), {"image": upload}, format="multipart")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "image_format_unsupported"
    assert len(tiktok.calls) == 0


def test_every_violation_is_reported_and_nothing_is_sent(api, conversation, tiktok):
    buttons = [{"type": "callback", "text": "x" * 21}, {"type": "url", "text": "y"}]
    response = api.post(url(conversation.client), {"text": "z" * 41, "buttons": buttons}, format="json")
    assert response.status_code == 422
    assert sorted((e["code"], e["field"]) for e in response.json()["errors"]) == [
        ("button_text_too_long", "buttons.0.text"),
        ("mixed_button_types", "buttons"),
        ("text_too_long_for_buttons", "text"),
    ]
    assert len(tiktok.calls) == 0
    assert not Message.objects.exists()
    assert window_sent(conversation) == 0


def test_text_with_image_is_refused(api, conversation, tiktok):
    response = api.post(
        url(conversation.client), {"text": "hi", "image": {"url": "https://cdn.example/a.png"}}, format="json"
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["text_and_image"]


def test_malformed_body_answers_422_with_field_errors(api, conversation):
    response = api.post(url(conversation.client), {"buttons": "not json"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "buttons"


def test_no_conversation(api, account, tiktok):
    client = ClientFactory(channel=account.channel)
    response = api.post(url(client), {"text": "hi"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "no_conversation"
    assert len(tiktok.calls) == 0


@pytest.mark.parametrize(
    ("elapsed", "status", "code"),
    [(dt.timedelta(hours=47, minutes=59), 201, None), (dt.timedelta(hours=48, minutes=1), 409, "window_closed")],
)
def test_window_boundary(api, conversation, tiktok, elapsed, status, code):
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - elapsed)
    add_send(tiktok)
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert response.status_code == status
    assert response.json().get("code") == code


def test_tenth_message_goes_eleventh_is_refused_until_the_client_writes(api, conversation, tiktok):
    for n in range(11):
        add_send(tiktok, message_id=f"m{n}")
    statuses = [api.post(url(conversation.client), {"text": f"#{n}"}, format="json").status_code for n in range(10)]
    assert statuses == [201] * 10
    response = api.post(url(conversation.client), {"text": "#11"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "quota_exhausted")
    assert len(sent_bodies(tiktok)) == 10
    detail = api.get(f"/api/v1/clients/{conversation.client.pk}/").json()
    assert detail["window"]["messages_left"] == 0
    assert detail["window"]["open"] is False


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"status": TikTokAccount.Status.NEEDS_REAUTH}, "needs"), ({"country": "US"}, "US")],
)
def test_unavailable_account(api, conversation, tiktok, changes, reason):
    TikTokAccount.objects.filter(pk=conversation.account.pk).update(**changes)
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "account_unavailable"
    assert reason in response.json()["message"]
    assert len(tiktok.calls) == 0


# --- TikTok's errors
def test_rate_limited_by_tiktok_is_retried(api, conversation, tiktok):
    add_send(tiktok, code=constants.CODE_RATE_LIMITED)
    add_send(tiktok, message_id="after-retry")
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert response.status_code == 201
    assert response.json()["external_id"] == "after-retry"
    assert len(sent_bodies(tiktok)) == 2
    assert window_sent(conversation) == 1


@pytest.mark.parametrize(
    ("kwargs", "tiktok_code"),
    [
        ({"status": 500, "body": {}}, None),
        ({"code": constants.CODE_SYSTEM_ERROR}, constants.CODE_SYSTEM_ERROR),
    ],
)
def test_failure_after_the_request_may_have_reached_tiktok_is_not_retried(
    api, conversation, tiktok, kwargs, tiktok_code
):
    add_send(tiktok, log_id="log-5xx", **kwargs)
    add_send(tiktok)  # would be used by a (wrong) retry
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert response.status_code == 502
    assert response.json()["code"] == "tiktok_unavailable"
    assert response.json()["tiktok_code"] == tiktok_code
    assert response.json()["log_id"] == "log-5xx"
    assert len(sent_bodies(tiktok)) == 1
    assert window_sent(conversation) == 1  # it may have been sent: the slot stays used
    message = Message.objects.get()
    assert (message.status, message.error_code) == ("failed", "tiktok_unavailable")


def test_tiktok_refusal_releases_the_slot_and_reports(api, conversation, tiktok):
    add_send(tiktok, code=constants.CODE_INVALID_PARAM, log_id="log-400")
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert response.status_code == 502
    assert response.json()["code"] == "tiktok_rejected"
    assert response.json()["tiktok_code"] == constants.CODE_INVALID_PARAM
    assert window_sent(conversation) == 0
    message = Message.objects.get()
    assert message.status == "failed"
    assert "40000" in message.error_message
    assert "log-400" in message.error_message


def test_dm_rules_refusal_when_our_ledger_has_room_is_tiktok_rejected(api, conversation, tiktok):
    add_send(tiktok, code=constants.CODE_DM_RULES)
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert (response.status_code, response.json()["code"]) == (502, "tiktok_rejected")
    assert response.json()["tiktok_code"] == constants.CODE_DM_RULES
    assert len(sent_bodies(tiktok)) == 1
    assert window_sent(conversation) == 0


def test_dm_rules_refusal_on_our_last_slot_is_quota_exhausted(api, conversation, tiktok):
    Conversation.objects.filter(pk=conversation.pk).update(window_sent=9)
    add_send(tiktok, code=constants.CODE_DM_RULES)
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "quota_exhausted")
    assert window_sent(conversation) == 10
    assert Message.objects.get().error_code == "quota_exhausted"


def test_dm_rules_refusal_after_the_window_ended_is_window_closed(api, conversation, tiktok):
    almost = timezone.now() - dt.timedelta(hours=48) + dt.timedelta(seconds=1)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=almost)

    def slow_refusal(request):
        time.sleep(1.1)
        return 200, {}, '{"code": 40064, "message": "blocked", "data": {}}'

    tiktok.add_callback(responses.POST, tiktok_url(constants.PATH_MESSAGE_SEND), callback=slow_refusal)
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "window_closed")


def test_our_rate_limiter_answers_429_and_gives_the_slot_back(api, conversation, tiktok, settings):
    settings.TIKTOK_RATE_LIMIT_QPS = 1
    settings.TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS = 0.2
    ratelimit.acquire()  # another worker just used this second
    response = api.post(url(conversation.client), {"text": "hi"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    assert len(tiktok.calls) == 0
    assert window_sent(conversation) == 0
    assert Message.objects.get().error_code == "rate_limited"


def test_the_image_upload_uses_the_apps_rate_limit_too(api, conversation, tiktok, settings):
    """TikTok counts every call of the app: an image send is two (upload, send), and the limiter holds the send
    back when the upload took the second's last call."""
    settings.TIKTOK_RATE_LIMIT_QPS = 2
    settings.TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS = 0.2
    ratelimit.acquire()  # another worker's call this second
    add_upload(tiktok)
    add_send(tiktok)
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = api.post(url(conversation.client), {"image": upload}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert [c.request.url for c in tiktok.calls] == [tiktok_url(constants.PATH_MEDIA_UPLOAD)]
    assert window_sent(conversation) == 0  # the send never left: its slot of the window is given back
    assert Message.objects.get().error_code == "rate_limited"


def test_echo_logged_first_is_merged_into_our_row(api, conversation, tiktok):
    """If TikTok's echo of our send was logged before TikTok answered us, one row remains: ours."""
    client = conversation.client

    def send_and_echo(request):
        MessageFactory(
            client=client,
            direction=Message.Direction.OUTBOUND,
            source=Message.Source.BOT,
            status=Message.Status.SENT,
            external_id="echoed-1",
        )
        return 200, {}, '{"code": 0, "message": "OK", "data": {"message": {"message_id": "echoed-1"}}}'

    tiktok.add_callback(responses.POST, tiktok_url(constants.PATH_MESSAGE_SEND), callback=send_and_echo)
    response = api.post(url(client), {"text": "hi"}, format="json")
    assert response.status_code == 201
    assert list(Message.objects.filter(external_id="echoed-1").values_list("pk", flat=True)) == [response.json()["id"]]


# --- access
def test_another_projects_client_is_not_found(api, tiktok):
    other = ConversationFactory()
    response = api.post(url(other.client), {"text": "hi"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert len(tiktok.calls) == 0


@pytest.mark.parametrize("header", [None, "Api-Key nope.nope", "Bearer abc"])
def test_missing_or_wrong_key_is_401(conversation, header):
    from rest_framework.test import APIClient

    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(url(conversation.client), {"text": "hi"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "invalid_api_key"}


def test_message_log_newest_first_with_cursor(api, conversation):
    client = conversation.client
    messages = [MessageFactory(client=client, text=f"m{n}") for n in range(5)]
    MessageFactory(text="someone else's")
    page = api.get(url(client), {"limit": 3}).json()
    assert [m["text"] for m in page["results"]] == ["m4", "m3", "m2"]
    rest = api.get(page["next"]).json()
    assert [m["text"] for m in rest["results"]] == ["m1", "m0"]
    assert rest["next"] is None
    assert {m["id"] for m in page["results"] + rest["results"]} == {m.pk for m in messages}


# --- content types
@pytest.mark.parametrize(
    ("content_type", "named"),
    [("application/x-www-form-urlencoded", '"application/x-www-form-urlencoded"'), ("", "no Content-Type header")],
)
def test_json_under_another_content_type_is_415_naming_the_types(api, conversation, tiktok, content_type, named):
    # What `curl -d '{"text": ...}'` sends: JSON labelled as a form (or, by hand, no type at all).
    response = api.generic("POST", url(conversation.client), '{"text": "Hello!"}', content_type=content_type)
    assert response.status_code == 415, response.content
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert named in body["message"]
    assert "application/json, multipart/form-data" in body["message"]
    assert not tiktok.calls
    assert not Message.objects.exists()


def test_an_oversized_body_is_413_in_the_api_format(api, conversation, tiktok, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api.post(url(conversation.client), {"text": "x" * 20_000}, format="json")
    assert response.status_code == 413
    assert response.json() == {"code": "request_too_large", "message": response.json()["message"]}
    assert "10000" in response.json()["message"]
    assert not tiktok.calls
