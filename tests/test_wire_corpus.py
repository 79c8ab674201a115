"""The corpus of public TikTok webhook payloads (tests/fixtures/tiktok/real/, sources and licences in SOURCES.md):
each is delivered signed through the receiver, and the bot gets what it should. None is ever answered 5xx; only
a delivery with nothing usable in it is journaled as failed, and then never retried."""

import json

import pytest
import responses

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from clients.models import BotEvent
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

REAL = wc.FIXTURES / "real"
API = "https://business-api.tiktok.com/open_api/v1.3/"
DOWNLOAD_URL = "https://p16-im-media.tiktokcdn.com/media-1.jpeg"
PROCESSED, IGNORED, FAILED = WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED, WebhookEvent.Status.FAILED

# file: (files delivered before it, its journal status, what the bot gets from it: (type, text) per event)
EXPECTED = {
    "chatwoot_text": ((), PROCESSED, [("client.message", "Hello from TikTok")]),
    "chatwoot_text_2": ((), PROCESSED, [("client.message", "Hello with capability failure")]),
    "chatwoot_sticker": ((), PROCESSED, [("client.message", "[sticker]")]),
    "chatwoot_share_post": (
        (),
        PROCESSED,
        [("client.message", "tiktok_client_share_post 123 https://www.tiktok.com/embed/123")],
    ),
    "chatwoot_image": ((), PROCESSED, [("client.message", "[image]")]),
    # Only a conversation id: usable once we know the conversation (its client wrote before), else not.
    # The earlier text's window (its recorded time, long ago) is closed: the new message opens one.
    "chatwoot_receive_conversation_only": (
        ("chatwoot_text",),
        PROCESSED,
        [("window.opened", ""), ("client.message", "[message of another type]")],
    ),
    "chatwoot_mark_read": (("chatwoot_text",), PROCESSED, []),
    "chatwoot_unknown_event": ((), IGNORED, []),
    "promobase_dm_receive": ((), PROCESSED, [("client.message", "How much is shipping?")]),
    "promobase_dm_send": (("promobase_dm_receive",), PROCESSED, []),  # the echo of an API send
    "promobase_dm_mark_read": (("promobase_dm_receive",), PROCESSED, []),
    "promobase_comment_reply_insert": ((), PROCESSED, [("client.message", "tiktok_client_new_comment 9: Nice!")]),
    "promobase_comment_own_insert": ((), IGNORED, []),  # the brand's own comment
    "promobase_comment_delete": ((), PROCESSED, [("comment.status", "")]),
}


def body_of(name: str) -> bytes:
    """The file as TikTok would send it: compact JSON bytes."""
    return json.dumps(json.loads((REAL / f"{name}.json").read_text()), ensure_ascii=False).encode()


@pytest.fixture
def accounts():
    TikTokAccountFactory(business_id="biz-123", username="biz")
    TikTokAccountFactory(business_id="openid_1", username="ourbrand")


@pytest.fixture
def tiktok():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            API + constants.PATH_MEDIA_DOWNLOAD,
            json={"code": 0, "message": "OK", "data": {"download_url": DOWNLOAD_URL}},
        )
        mock.get(DOWNLOAD_URL, body=b"\xff\xd8\xff\xe0 jpeg", content_type="image/jpeg")  # the background copy
        yield mock


def test_every_file_has_an_expectation_and_a_source():
    names = sorted(path.stem for path in REAL.glob("*.json"))
    assert names == sorted(EXPECTED)
    sources = (REAL / "SOURCES.md").read_text()
    for name in names:
        assert f"`{name}.json`" in sources, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_payload_reaches_the_bot(accounts, tiktok, client, django_capture_on_commit_callbacks, name):
    before, status, told = EXPECTED[name]
    for earlier in before:
        assert wc.deliver(client, django_capture_on_commit_callbacks, body_of(earlier)).status == PROCESSED
    already = BotEvent.objects.count()

    row = wc.deliver(client, django_capture_on_commit_callbacks, body_of(name))

    assert (row.status, row.attempts) == (status, 1), row.error
    events = list(BotEvent.objects.order_by("id"))[already:]
    assert [(event.type, event.body["text"]) for event in events] == told


def test_what_the_bot_gets_in_detail(accounts, tiktok, client, django_capture_on_commit_callbacks):
    def deliver(name: str) -> dict:
        wc.deliver(client, django_capture_on_commit_callbacks, body_of(name))
        return BotEvent.objects.order_by("-id").first().body

    text = deliver("chatwoot_text")
    assert (text["client"]["external_id"], text["data"]["conversation_id"]) == ("user-1", "tt-conv-1")
    assert deliver("chatwoot_sticker")["data"]["type"] == "sticker"
    share = deliver("chatwoot_share_post")["data"]
    assert (share["video_id"], share["url"]) == ("123", "https://www.tiktok.com/embed/123")
    image = deliver("chatwoot_image")["data"]["image"]
    assert (image["media_id"], image["url"]) == ("media-1", DOWNLOAD_URL)
    assert image["link"].startswith("http")  # our own link, stable
    shipping = deliver("promobase_dm_receive")
    assert shipping["client"]["variables"] == {
        constants.VAR_CONVERSATION_ID: "conv_1",
        constants.VAR_IS_FOLLOWER: "True",
    }
    comment = deliver("promobase_comment_reply_insert")
    assert (comment["data"]["comment_id"], comment["data"]["parent_comment_id"]) == ("111", "110")


def test_nothing_usable_is_failed_once_and_never_retried(accounts, client, django_capture_on_commit_callbacks):
    """A conversation id of a conversation we do not know, and nothing else: nobody to tell."""
    row = wc.deliver(client, django_capture_on_commit_callbacks, body_of("chatwoot_receive_conversation_only"))
    assert (row.status, row.next_attempt_at) == (FAILED, None)
    assert "nothing usable" in row.error
    assert not BotEvent.objects.exists()
