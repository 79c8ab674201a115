"""Property: every webhook TikTok could send is answered 200 and never journaled as failed.

The shapes are those TikTok documents (tiktok-api.md §5: the DM events, `comment.update`), then varied the ways
real payloads vary: optional fields dropped, unknown fields added, ids as numbers or strings, times in seconds,
milliseconds or absent, enum values in either case. What stays is what makes a delivery usable at all: a sender
(its `unique_identifier` or `from_user.id`) for a user's message, the conversation and recipient of a message
from the TikTok app, the comment's id and action."""

import datetime as dt
import json
import string
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_tiktok import constants
from channels_tiktok.models import TikTokAccount, WebhookEvent
from clients.models import BotEvent, Client, Message
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

API = "https://business-api.tiktok.com/open_api/v1.3/"
NOW = dt.datetime(2025, 11, 24, 16, 0, 30, tzinfo=dt.UTC)
SECONDS = 1764000000

digits = st.integers(min_value=10**17, max_value=10**19 - 1)
# Text without NUL: the journal refuses a NUL anywhere in a payload on purpose (PostgreSQL text cannot hold it).
texts = st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=30)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), texts)
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3)
)
unknown_fields = st.dictionaries(
    st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=10).map(lambda key: f"x_{key}"),
    json_value,
    max_size=3,
)


@st.composite
def an_id(draw) -> int | str:
    """A TikTok id: a JSON number or a string."""
    value = draw(digits)
    return value if draw(st.booleans()) else str(value)


@st.composite
def a_time(draw) -> int | str:
    """A time in seconds or milliseconds, as a number or (rarely) a string."""
    seconds = SECONDS + draw(st.integers(min_value=-86_400, max_value=20))
    value = seconds * 1000 + draw(st.integers(0, 999)) if draw(st.booleans()) else seconds
    return str(value) if draw(st.integers(0, 9)) == 0 else value


def cased(value: str):
    return st.sampled_from([value, value.upper()])


def party(draw, party_id: str, role: str) -> dict:
    found = {"id": party_id}
    if draw(st.booleans()):
        found["role"] = draw(cased(role))
    return found


@st.composite
def user_message(draw) -> tuple[str, dict]:
    kind = draw(st.sampled_from(["text", "button", "image", "share_post", "sticker", "emoji", "video", "reaction"]))
    content = {
        "conversation_id": f"0:1:{draw(digits)}+E",
        "message_id": draw(an_id()),
        "timestamp": draw(a_time()),
        "type": draw(cased("text" if kind == "button" else kind)),
        "from": "maria.lopez",
        "from_user": party(draw, wc.USER_ID, "personal_account"),
        "to": "casa.bonita.mx",
        "to_user": party(draw, wc.BUSINESS_ID, "business_account"),
        "unique_identifier": wc.USER_ID,
        "is_follower": draw(st.sampled_from([True, False, "true", "false"])),
        "scene_type": draw(st.integers(0, 3)),
        "message_tag": {},
        "referenced_message_info": {"referenced_message_id": draw(an_id())},
    }
    blocks = {
        "text": {"text": {"body": draw(texts)}},
        "button": {
            "text": {"body": "Sí"},
            "reply_source_payload": {"reply_source_msg_id": draw(an_id()), "reply_source_unique_id": "btn_yes"},
        },
        "image": {"image": {"media_id": "v0c025g50000media"}},
        "share_post": {
            "share_post": draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "video_id": an_id(),
                        "embed_url": st.just("https://www.tiktok.com/embed/v2/7438011223344556677"),
                        "share_url": st.just("https://vm.tiktok.com/ZMabcdef/"),
                    },
                )
            )
        },
        "sticker": {"sticker": {"url": "https://p16-im.tiktokcdn.com/s.webp"}},
        "emoji": {"emoji": {"url": "https://p16-im.tiktokcdn.com/e.png"}},
        "video": {"video": {"media_id": "v0c025g50000video"}},
        "reaction": {"reaction": {"emoji": "❤️", "message_id": draw(an_id())}},
    }
    content.update(blocks[kind])
    # Any field may be missing, but the sender must be named somewhere.
    keep_sender = draw(st.sampled_from(["unique_identifier", "from_user"]))
    optional = [key for key in content if key != keep_sender]
    for key in draw(st.lists(st.sampled_from(optional), unique=True)):
        del content[key]
    return constants.EVENT_RECEIVE_MSG, content


@st.composite
def operator_message(draw) -> tuple[str, dict]:
    content = {
        "conversation_id": f"0:1:{draw(digits)}+E",
        "to_user": party(draw, wc.USER_ID, "personal_account"),
        "message_id": draw(an_id()),
        "timestamp": draw(a_time()),
        "type": draw(cased("text")),
        "from": "casa.bonita.mx",
        "from_user": party(draw, wc.BUSINESS_ID, "business_account"),
        "to": "maria.lopez",
        "text": {"body": "Hola"},
        "message_tag": {"source": draw(st.sampled_from(["APP", "WEB", "API", "app"]))},
        "unique_identifier": wc.BUSINESS_ID,
    }
    optional = [key for key in content if key not in ("conversation_id", "to_user")]
    for key in draw(st.lists(st.sampled_from(optional), unique=True)):
        del content[key]
    return constants.EVENT_SEND_MSG, content


@st.composite
def read_receipt(draw) -> tuple[str, dict]:
    content = {
        "conversation_id": f"0:1:{draw(digits)}+E",
        "from": "maria.lopez",
        "from_user": party(draw, wc.USER_ID, "personal_account"),
        "to_user": party(draw, wc.BUSINESS_ID, "business_account"),
        "timestamp": draw(a_time()),
        "read": {"last_read_timestamp": draw(a_time())},
    }
    for key in draw(st.lists(st.sampled_from(list(content)), unique=True)):
        del content[key]
    return constants.EVENT_MARK_READ, content


@st.composite
def comment_update(draw) -> tuple[str, dict]:
    content = {
        "comment_id": draw(an_id()),
        "comment_action": draw(cased(draw(st.sampled_from(["insert", "delete", "set_to_hidden", "set_to_public"])))),
        "video_id": draw(an_id()),
        "parent_comment_id": draw(st.one_of(an_id(), st.just(0), st.just(""))),
        "comment_type": draw(st.sampled_from(["comment", "reply"])),
        "unique_identifier": wc.USER_ID,
        "timestamp": draw(a_time()),
        "text": draw(texts),
    }
    optional = [key for key in content if key not in ("comment_id", "comment_action", "video_id")]
    for key in draw(st.lists(st.sampled_from(optional), unique=True)):
        del content[key]
    return constants.EVENT_COMMENT_UPDATE, content


@st.composite
def delivery(draw) -> bytes:
    event, content = draw(st.one_of(user_message(), operator_message(), read_receipt(), comment_update()))
    content.update(draw(unknown_fields))
    envelope = {"client_key": "test-app", "event": event, "user_openid": wc.BUSINESS_ID}
    if draw(st.integers(0, 4)):
        envelope["create_time"] = draw(a_time())
    envelope["content"] = json.dumps(content, ensure_ascii=draw(st.booleans()))
    return json.dumps(envelope).encode()


def comment_list(request):
    """TikTok's comment/list: each asked-for comment, with its author and text."""
    ids = json.loads(parse_qs(urlsplit(request.url).query).get("comment_ids", ["[]"])[0])
    comments = [{"comment_id": comment_id, "unique_identifier": wc.USER_ID, "text": "¡Hola!"} for comment_id in ids]
    return 200, {}, json.dumps({"code": 0, "message": "OK", "request_id": "r", "data": {"comments": comments}})


@pytest.fixture
def tiktok():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(API + constants.PATH_MEDIA_DOWNLOAD, json={"code": 0, "data": {"download_url": "https://x/y.jpg"}})
        mock.add_callback(responses.GET, API + constants.PATH_COMMENT_LIST, callback=comment_list)
        yield mock


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=delivery())
def test_no_delivery_tiktok_could_send_fails(client, django_capture_on_commit_callbacks, tiktok, time_machine, body):
    time_machine.move_to(NOW, tick=False)
    for model in (BotEvent, Message, WebhookEvent, Client):
        model.objects.all().delete()
    if not TikTokAccount.objects.filter(business_id=wc.BUSINESS_ID).exists():
        TikTokAccountFactory(business_id=wc.BUSINESS_ID, username="casa.bonita.mx")

    row = wc.deliver(client, django_capture_on_commit_callbacks, body)  # asserts HTTP 200

    assert row.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED), (row.error, body)
