"""Every inbound message type reaches the bot typed, end to end through the sandbox's controls: a video, a sticker,
an emoji, a template and an `other` message become `client.message` events with `data.kind`, the type's fields
and a readable placeholder text; a quoted reply keeps the quoted message's id. Queries per processed event stay
flat, also for a new client."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_tiktok import constants
from clients.models import BotEvent, Message
from tests.factories import ProjectFactory
from tests.sandbox import connect_account

pytestmark = pytest.mark.django_db

ACCOUNT = "sbx-acct-mx-001"
# From the sandbox's delivery to the bot event (journaling included), a new client's video, as measured.
MAX_QUERIES_PER_EVENT = 24


@pytest.fixture
def connected(sandbox_to_django):
    project = ProjectFactory(callback_url="")
    account = connect_account(sandbox_to_django, project=project, account=ACCOUNT)
    return sandbox_to_django, account


def run(captured_callbacks, action, **kwargs):
    """A control action, its webhook processed in this thread; the queries it took."""
    with CaptureQueriesContext(connection) as queries, captured_callbacks(execute=True):
        result = action(**kwargs)
    return result, len(queries)


@pytest.mark.parametrize(
    ("type_", "placeholder"),
    [
        ("video", "[video]"),
        ("sticker", "[sticker]"),
        ("emoji", "[emoji]"),
        ("template", "[template message]"),
        ("other", "[message of another type]"),
    ],
)
def test_each_type_reaches_the_bot_typed_and_readable(
    connected, django_capture_on_commit_callbacks, settings, type_, placeholder
):
    sandbox, _account = connected
    settings.TIKTOK_KEEP_MEDIA = False  # the copy is a task of its own, counted in tests/test_inbound_media_e2e.py
    sent, queries = run(
        django_capture_on_commit_callbacks, sandbox.control.user_sends, user="sbx-user-pedro", type=type_
    )
    assert sent["delivery"]["http_status"] == 200
    assert queries <= MAX_QUERIES_PER_EVENT  # a new client, too

    event = BotEvent.objects.get()
    assert (event.type, event.body["text"]) == ("client.message", placeholder)
    data = event.body["data"]
    assert (data["kind"], data["type"], data["message_id"]) == (type_, type_, sent["message_id"])
    block = sent["content"][type_]
    if type_ == "video":
        assert data["video"]["media_id"] == block["media_id"]
        assert data["video"]["url"].startswith(sandbox.url)  # TikTok's download URL, asked for with VIDEO
    elif type_ in ("sticker", "emoji"):
        assert data["url"] == block["url"]
        assert data["url"].startswith("https://")
    elif block:
        assert data[type_] == block
    message = Message.objects.get()
    assert (message.kind, message.text) == (type_, placeholder)


def test_a_quoted_reply_keeps_the_quoted_message_id(connected, django_capture_on_commit_callbacks):
    sandbox, _account = connected
    first, _ = run(django_capture_on_commit_callbacks, sandbox.control.user_writes, text="¿Abren hoy?")
    quoted, _ = run(
        django_capture_on_commit_callbacks,
        sandbox.control.user_sends,
        type="sticker",
        quote_message_id=first["message_id"],
    )
    assert quoted["content"]["referenced_message_info"] == {"referenced_message_id": first["message_id"]}
    data = BotEvent.objects.order_by("id").last().body["data"]
    assert data["referenced_message_id"] == first["message_id"]
    assert Message.objects.get(external_id=quoted["message_id"]).payload["referenced_message_id"] == first["message_id"]


def test_placeholders_are_configurable_and_translated(connected, django_capture_on_commit_callbacks, settings):
    from django.utils import translation

    from channels_tiktok.webhooks.placeholders import placeholder

    settings.TIKTOK_MESSAGE_PLACEHOLDERS = {"sticker": "🧸"}
    sandbox, _account = connected
    run(django_capture_on_commit_callbacks, sandbox.control.user_sends, type="sticker")
    assert BotEvent.objects.get().body["text"] == "🧸"
    with translation.override("ru"):
        assert placeholder("video") == "[видео]"


def test_the_product_can_download_a_video_the_user_sent(connected, django_capture_on_commit_callbacks):
    import requests

    sandbox, account = connected
    page = requests.get(f"{sandbox.url}/sandbox/", timeout=10).text
    assert "<option>video</option><option>template</option><option>other</option>" in page
    assert 'name="quote_message_id"' in page
    run(django_capture_on_commit_callbacks, sandbox.control.user_sends, type="video")
    video = BotEvent.objects.get().body["data"]["video"]
    fetched = requests.get(
        video["url"], headers={constants.MEDIA_DOWNLOAD_USER_HEADER: account.access_token}, timeout=10
    )
    assert (fetched.status_code, fetched.headers["Content-Type"]) == (200, "video/mp4")
