"""End to end with the sandbox in variety mode: webhooks in the many shapes real TikTok sends (optional fields
left out, unknown fields added, ids as numbers or strings, times in seconds or milliseconds, a share without its
video id, a message without its id). A user writes, shares a video, sends an image, a sticker and an emoji,
reacts, comments, taps a button and reads; the bot hears each once, right, and no delivery fails."""

import json
import secrets

import pytest
import requests

from channels_tiktok import constants
from channels_tiktok.models import Conversation, WebhookEvent
from channels_tiktok.sandbox import variety
from clients.api_keys import create_api_key
from clients.models import BotEvent, Client, Message
from tests.factories import ProjectFactory
from tests.sandbox import connect_account

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "sbx-acct-mx-001"
USER = "sbx-user-lucia"
STICKER_URL = "https://p16-im-sticker.tiktokcdn.com/sandbox/sticker-1.webp"
EMOJI_URL = "https://p16-im-emoji.tiktokcdn.com/sandbox/emoji-1.png"


@pytest.fixture
def connected(sandbox_live):
    sandbox_live.sandbox.configure(echo_mode="manual")
    project = ProjectFactory(callback_url="", callback_secret=secrets.token_hex(16))
    account = connect_account(sandbox_live, project=project, account=ACCOUNT)
    return sandbox_live, project, account


def bot_events() -> list[tuple[str, str]]:
    return [(event.type, event.body["text"]) for event in BotEvent.objects.order_by("id")]


@pytest.mark.parametrize("seed", [1, 7])
def test_every_event_type_in_varied_shapes_reaches_the_bot(connected, live_server, seed):
    sandbox, project, _account = connected
    sandbox.sandbox.configure(variety=True, variety_seed=seed)
    control = sandbox.control

    wrote = control.user_writes(account=ACCOUNT, user=USER, text="Hola")
    shared = control.user_shares_video(account=ACCOUNT, user=USER)
    image = control.user_sends_image(account=ACCOUNT, user=USER)
    control.user_sends(account=ACCOUNT, user=USER, type="sticker", body={"url": STICKER_URL})
    control.user_sends(account=ACCOUNT, user=USER, type="emoji", body={"url": EMOJI_URL})
    window_before = Conversation.objects.get().last_inbound_at
    control.user_sends(
        account=ACCOUNT, user=USER, type="reaction", body={"emoji": "❤️", "message_id": wrote["message_id"]}
    )
    comment = control.user_comments(account=ACCOUNT, user=USER, text="¡Qué rico!")

    client = Client.objects.get()
    _key, api_key = create_api_key(project=project, name="bot")
    sent = requests.post(
        f"{live_server.url}/api/v1/clients/{client.pk}/messages/",
        json={"text": "¿Mesa?", "buttons": [{"type": "callback", "text": "Sí"}]},
        headers={"Authorization": f"Api-Key {api_key}"},
        timeout=10,
    )
    assert sent.status_code == 201, sent.text
    control.flush_deliveries()  # the echo of our own send
    control.user_taps_button(account=ACCOUNT, user=USER, button_title="Sí")
    control.user_reads(account=ACCOUNT, user=USER)

    # Varied, and really so: the deliveries are not the sandbox's one tidy form.
    bodies = [
        json.loads(sandbox.sandbox.state.deliveries[i].body) for i in range(len(sandbox.sandbox.state.deliveries))
    ]
    assert any(
        body["create_time"] > constants.WIRE_MILLIS_FROM
        or "scene_type" in body["content"]
        or variety.UNKNOWN_FIELD in body["content"]
        for body in bodies
    )

    events = bot_events()
    assert events[:4] == [
        ("client.message", "Hola"),
        ("client.message", f"tiktok_client_share_post {shared['video_id']} {shared['embed_url']}"),
        ("client.message", "[image]"),
        ("client.message", "[sticker]"),
    ]
    assert events[4:] == [
        ("client.message", "[emoji]"),
        ("client.reaction", "❤️"),
        ("client.message", f"tiktok_client_new_comment {comment['content']['video_id']}: ¡Qué rico!"),
        ("client.message", "Sí"),
        ("message.status", ""),
    ]
    datas = [event.body["data"] for event in BotEvent.objects.order_by("id")]
    assert datas[2]["image"]["media_id"] == image["media_id"]
    assert (datas[3]["type"], datas[3]["url"]) == ("sticker", STICKER_URL)
    assert (datas[4]["type"], datas[4]["url"]) == ("emoji", EMOJI_URL)
    assert (datas[5]["emoji"], datas[5]["message_id"]) == ("❤️", wrote["message_id"])
    assert datas[7]["button_id"] == sent.json()["payload"]["buttons"][0]["id"]
    assert datas[8]["status"] == "read"
    # A reaction is not a message: it did not move the window; the tap after it did.
    assert not Message.objects.filter(text="❤️").exists()
    assert window_before is not None
    assert set(WebhookEvent.objects.values_list("status", flat=True)) <= {
        WebhookEvent.Status.PROCESSED,
        WebhookEvent.Status.IGNORED,
    }
    assert {event.body["client"]["external_id"] for event in BotEvent.objects.all()} == {USER}


def test_variety_varies_each_shape_and_repeats_per_seed(sandbox):
    """Across deliveries the sandbox leaves out, adds and retypes fields; the same seed gives the same bodies."""
    sandbox.sandbox.configure(variety=True, variety_seed=3)
    sandbox.control.issue_token(account=ACCOUNT)

    def bodies() -> list[dict]:
        sandbox.sandbox.reset()
        sandbox.sandbox.configure(variety=True, variety_seed=3)
        for index in range(12):
            sandbox.control.user_writes(account=ACCOUNT, user=USER, text=f"m{index}", deliver="manual")
            sandbox.control.user_shares_video(account=ACCOUNT, user=USER, deliver="manual")
        return [json.loads(delivery.body) for delivery in sandbox.sandbox.state.deliveries]

    def shapes(bodies: list[dict]) -> list:
        """What variety decides: the unit of create_time, and each content field's presence and JSON type."""
        return [
            (
                body["create_time"] > constants.WIRE_MILLIS_FROM,
                {k: type(v).__name__ for k, v in json.loads(body["content"]).items()},
            )
            for body in bodies
        ]

    first = bodies()
    assert shapes(first) == shapes(bodies())
    contents = [json.loads(body["content"]) for body in first]
    assert any(body["create_time"] > constants.WIRE_MILLIS_FROM for body in first)
    assert any(body["create_time"] < constants.WIRE_MILLIS_FROM for body in first)
    assert any("timestamp" not in content for content in contents)
    assert any("message_id" not in content for content in contents)
    assert any(isinstance(content.get("message_id"), int) for content in contents)
    assert any(isinstance(content.get("message_id"), str) for content in contents)
    assert any("scene_type" in content for content in contents)
    assert any("video_id" not in content.get("share_post", {"video_id": 1}) for content in contents)
    assert any("role" not in content["from_user"] for content in contents)
