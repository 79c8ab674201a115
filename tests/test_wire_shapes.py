"""The shapes real TikTok deliveries were seen in (docs/tiktok-api.md, "As delivered"), each delivered signed through
the receiver:
a share without `video_id`, a DM without `message_id`, `create_time` in milliseconds without a content
timestamp, reactions, stickers and emoji with their URLs, comments carrying their text, error bodies with
`data: null`. Each of these failed, or reached the bot wrong, before the webhooks were read tolerantly."""

import datetime as dt
import json

import pytest
import responses

from channels_tiktok import constants
from channels_tiktok.models import Conversation, WebhookEvent
from channels_tiktok.tiktok.client import TikTokClient, TikTokError
from channels_tiktok.webhooks import wire
from clients.models import BotEvent, Message
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

API = "https://business-api.tiktok.com/open_api/v1.3/"
FIXTURE_TIME = dt.datetime(2025, 11, 24, 16, 0, 0, tzinfo=dt.UTC)  # create_time 1764000000 of the fixtures


@pytest.fixture(autouse=True)
def _at_fixture_time(time_machine):
    time_machine.move_to(FIXTURE_TIME + dt.timedelta(seconds=30), tick=True)


@pytest.fixture
def account():
    return TikTokAccountFactory(business_id=wc.BUSINESS_ID, username="casa.bonita.mx")


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def _deliver(body: bytes) -> WebhookEvent:
        return wc.deliver(client, django_capture_on_commit_callbacks, body)

    return _deliver


def reshaped(name: str, *, drop: tuple[str, ...] = (), envelope: dict | None = None, **changes) -> bytes:
    """A fixture with fields of its content dropped or changed, and of its envelope changed."""
    outer = wc.load(name)
    content = json.loads(outer["content"])
    for key in drop:
        content.pop(key, None)
    content.update(changes)
    outer["content"] = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    outer.update(envelope or {})
    return json.dumps(outer, ensure_ascii=False).encode()


def events(event_type: str = "client.message") -> list[BotEvent]:
    return list(BotEvent.objects.filter(type=event_type).order_by("id"))


# ------------------------------------------------------------------------------ a share without video_id
def test_share_without_video_id_takes_the_id_from_the_embed_url(account, deliver):
    body = reshaped("im_receive_msg_share_post", share_post={"embed_url": "https://www.tiktok.com/embed/123456789"})
    row = deliver(body)
    assert row.status == WebhookEvent.Status.PROCESSED
    (event,) = events()
    assert event.body["text"] == "tiktok_client_share_post 123456789 https://www.tiktok.com/embed/123456789"
    assert (event.body["data"]["video_id"], event.body["data"]["video_id_known"]) == ("123456789", True)


@pytest.mark.parametrize(
    ("url", "video_id"),
    [
        ("https://www.tiktok.com/embed/v2/7438011223344556677", "7438011223344556677"),
        ("https://www.tiktok.com/@shop/video/7438011223344556677?is_from_webapp=1", "7438011223344556677"),
        ("https://m.tiktok.com/v/7438011223344556677.html", "7438011223344556677"),
        ("https://www.tiktok.com/share?item_id=7438011223344556677", "7438011223344556677"),
        ("https://vm.tiktok.com/ZMabcdef/", ""),
        ("", ""),
    ],
)
def test_video_id_from_url(url, video_id):
    assert wire.video_id_from_url(url) == video_id


def test_share_without_any_video_id_says_so_in_the_callback(account, deliver):
    body = reshaped("im_receive_msg_share_post", share_post={"share_url": "https://vm.tiktok.com/ZMabcdef/"})
    deliver(body)
    (event,) = events()
    assert event.body["text"] == "tiktok_client_share_post unknown_video_id https://vm.tiktok.com/ZMabcdef/"
    assert (event.body["data"]["video_id"], event.body["data"]["video_id_known"]) == ("", False)


# ------------------------------------------------------------------------------ a DM without message_id
def test_text_without_message_id_reaches_the_bot_once(account, deliver):
    body = reshaped("im_receive_msg_text", drop=("message_id",))
    row = deliver(body)
    assert (row.status, row.error) == (WebhookEvent.Status.PROCESSED, "")
    assert row.dedupe_key.startswith("im_receive_msg:digest:")
    (event,) = events()
    assert event.body["text"] == "Hola! Do you ship to Monterrey?"
    assert event.body["data"]["message_id"] == ""
    # TikTok delivers at least once: the same delivery again (even re-serialised) is the same event.
    again = json.dumps(json.loads(body), indent=2).encode()
    assert deliver(again).pk == row.pk
    assert (WebhookEvent.objects.count(), BotEvent.objects.count(), Message.objects.count()) == (1, 1, 1)
    # Another message without an id (another text) is another event.
    deliver(reshaped("im_receive_msg_text", drop=("message_id",), text={"body": "¿Y a Puebla?"}))
    assert [event.body["text"] for event in events()] == ["Hola! Do you ship to Monterrey?", "¿Y a Puebla?"]


def test_operator_message_without_message_id_is_told(account, deliver):
    deliver(wc.body_of("im_receive_msg_text"))
    row = deliver(reshaped("im_send_msg_app", drop=("message_id",)))
    assert row.status == WebhookEvent.Status.PROCESSED
    assert len(events("operator.message")) == 1


# ------------------------------------------------------------------------------ times in ms or seconds
def test_create_time_in_milliseconds_without_a_content_timestamp(account, deliver):
    body = reshaped("im_receive_msg_text", drop=("timestamp",), envelope={"create_time": 1764000000456})
    row = deliver(body)
    assert (row.status, row.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert Conversation.objects.get().last_inbound_at == dt.datetime(2025, 11, 24, 16, 0, 0, 456000, tzinfo=dt.UTC)


def test_content_timestamp_in_seconds(account, deliver):
    deliver(reshaped("im_receive_msg_text", timestamp=1764000000))
    assert Conversation.objects.get().last_inbound_at == FIXTURE_TIME


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1764000000, FIXTURE_TIME),
        (1764000000123, FIXTURE_TIME + dt.timedelta(milliseconds=123)),
        ("1764000000123", FIXTURE_TIME + dt.timedelta(milliseconds=123)),
        (1764000000123456, FIXTURE_TIME + dt.timedelta(microseconds=123456)),
        (None, None),
        (0, None),
        (-5, None),
        ("soon", None),
        (10**30, None),
    ],
)
def test_as_time_decides_the_unit_by_magnitude(value, expected):
    assert wire.as_time(value) == expected


def test_read_receipt_in_seconds(account, deliver):
    deliver(wc.body_of("im_receive_msg_text"))
    row = deliver(reshaped("im_mark_read_msg", read={"last_read_timestamp": 1764000001}))
    assert row.status == WebhookEvent.Status.PROCESSED


# ------------------------------------------------------------------------------ reactions, stickers, emoji
def test_reaction_is_its_own_event_and_does_not_reopen_the_window(account, deliver):
    deliver(wc.body_of("im_receive_msg_text"))
    opened = Conversation.objects.get().last_inbound_at
    body = reshaped(
        "im_receive_msg_text",
        drop=("text",),
        message_id="7440000000000000099",
        timestamp=1764000020000,
        type="reaction",
        reaction={"emoji": "👍", "message_id": "7440000000000000001"},
    )
    row = deliver(body)
    assert row.status == WebhookEvent.Status.PROCESSED
    reaction = events("client.reaction")
    assert len(reaction) == 1
    assert reaction[0].body["text"] == "👍"
    assert (reaction[0].body["data"]["emoji"], reaction[0].body["data"]["message_id"]) == ("👍", "7440000000000000001")
    assert reaction[0].body["client"]["external_id"] == wc.USER_ID
    assert len(events("client.message")) == 1  # the text only
    assert Conversation.objects.get().last_inbound_at == opened  # not a message: the window did not move
    assert not Message.objects.filter(external_id="7440000000000000099").exists()


@pytest.mark.parametrize("kind", ["sticker", "emoji"])
def test_sticker_and_emoji_urls_reach_the_bot(account, deliver, kind):
    url = f"https://p16-im.tiktokcdn.com/{kind}/abc.webp"
    deliver(reshaped("im_receive_msg_sticker", drop=("sticker",), type=kind, **{kind: {"url": url}}))
    (event,) = events()
    assert (event.body["data"]["type"], event.body["data"]["url"]) == (kind, url)
    message = Message.objects.get()
    assert (message.kind, message.payload["url"]) == (kind, url)


# ------------------------------------------------------------------------------ comments
def test_comment_update_carrying_its_text_needs_no_call(account, deliver):
    # No HTTP mock: a call to TikTok would fail the row.
    with responses.RequestsMock():
        row = deliver(reshaped("comment_update_insert", text="¡Me encanta!"))
    assert row.status == WebhookEvent.Status.PROCESSED
    (event,) = events()
    assert event.body["text"] == f"tiktok_client_new_comment {wc.VIDEO_ID}: ¡Me encanta!"


# ------------------------------------------------------------------------------ TikTok's REST answers
@responses.activate
def test_error_body_with_data_null_is_read_as_an_error():
    responses.get(
        API + constants.PATH_CONTENT_LIST,
        json={"code": 40001, "message": "No permission", "request_id": "r1", "data": None},
    )
    with pytest.raises(TikTokError) as error:
        TikTokClient("token").list_messages(business_id="b", conversation_id="c")
    assert (error.value.code, error.value.message) == (40001, "No permission")


@responses.activate
def test_success_with_data_null_and_a_code_as_a_string():
    responses.get(API + constants.PATH_CONTENT_LIST, json={"code": "0", "message": "OK", "data": None})
    assert TikTokClient("token").list_messages(business_id="b", conversation_id="c") == {}
