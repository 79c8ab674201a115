"""End to end over real HTTP: the sandbox plays TikTok and a user; the product runs in `live_server`; a tiny
HTTP server plays the bot builder's callback receiver. A user writes, shares a video, comments twice and taps a
button of a card the bot sent; the bot gets the right signed events with the right texts (R11, R12), and the
client's variables are right (R13), with comment and video ids exact 19-digit strings."""

import hashlib
import hmac
import json
import secrets

import pytest
import requests

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from clients.api_keys import create_api_key
from clients.models import BotEvent, Client, Message
from tests.factories import ProjectFactory
from tests.sandbox import WebhookReceiver, connect_account

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "sbx-acct-mx-001"
USER = "sbx-user-lucia"


@pytest.fixture
def bot_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def connected(sandbox_live, bot_receiver):
    """A project pushing to the bot receiver, with the sandbox's account connected (tokens issued by it)."""
    sandbox_live.sandbox.configure(ids_as_numbers=True, echo_mode="manual")
    project = ProjectFactory(callback_url=bot_receiver.url, callback_secret=secrets.token_hex(16))
    account = connect_account(sandbox_live, project=project, account=ACCOUNT)
    return sandbox_live, project, account


def verified_events(receiver, secret):
    """What the bot received, each checked the way the bot builder checks it."""
    events = []
    for request in receiver.requests:
        parts = dict(part.split("=", 1) for part in request["headers"]["x-signature"].split(","))
        expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(parts["s"], expected)
        body = json.loads(request["body"])
        assert request["headers"]["x-event-id"] == body["id"]
        events.append(body)
    return events


def test_user_writes_shares_comments_and_taps_a_button(connected, bot_receiver, live_server):
    sandbox, project, account = connected
    control = sandbox.control

    wrote = control.user_writes(account=ACCOUNT, user=USER, text="Hola, ¿tienen tacos al pastor?")
    shared = control.user_shares_video(account=ACCOUNT, user=USER)
    first_comment = control.user_comments(account=ACCOUNT, user=USER, text="¡Se ven deliciosos!")
    second_comment = control.user_comments(account=ACCOUNT, user=USER, text="¿Abren el domingo?")
    for result in (wrote, shared, first_comment, second_comment):
        assert result["delivery"]["http_status"] == 200
    # The sandbox sends 19-digit ids as JSON numbers where TikTok does (here: the even ids).
    assert isinstance(second_comment["content"]["comment_id"], int)

    client = Client.objects.get()
    _key, api_key = create_api_key(project=project, name="bot")
    sent = requests.post(
        f"{live_server.url}/api/v1/clients/{client.pk}/messages/",
        json={"text": "¿Te reservo una mesa?", "buttons": [{"type": "callback", "text": "Sí, por favor"}]},
        headers={"Authorization": f"Api-Key {api_key}"},
        timeout=10,
    )
    assert sent.status_code == 201, sent.text
    control.flush_deliveries()  # TikTok's echo of our own send: not logged twice, not told to the bot
    tapped = control.user_taps_button(account=ACCOUNT, user=USER, button_title="Sí, por favor")
    assert tapped["delivery"]["http_status"] == 200

    events = verified_events(bot_receiver, project.callback_secret)
    assert [(event["type"], event["text"]) for event in events] == [
        ("client.message", "Hola, ¿tienen tacos al pastor?"),
        ("client.message", f"tiktok_client_share_post {shared['video_id']} {shared['embed_url']}"),
        ("client.message", f"tiktok_client_new_comment {first_comment['video_id']}: ¡Se ven deliciosos!"),
        ("client.message", f"tiktok_client_new_comment {second_comment['video_id']}: ¿Abren el domingo?"),
        ("client.message", "Sí, por favor"),
    ]
    button_id = sent.json()["payload"]["buttons"][0]["id"]
    assert events[-1]["data"]["button_id"] == button_id
    assert {event["client"]["external_id"] for event in events} == {USER}
    assert events[0]["account"] == {"id": account.pk, "business_id": ACCOUNT, "username": "taqueria_sandbox"}

    comment_id, video_id = second_comment["comment_id"], second_comment["video_id"]
    assert len(comment_id) == len(video_id) == 19
    expected_variables = {
        constants.VAR_CONVERSATION_ID: wrote["conversation_id"],
        constants.VAR_IS_FOLLOWER: "True",
        constants.VAR_COMMENT_ID: comment_id,
        constants.VAR_COMMENT_VIDEO_ID: video_id,
    }
    assert dict(client.variables.values_list("key", "value")) == expected_variables
    assert events[-1]["client"]["variables"] == expected_variables
    assert events[3]["data"]["comment_id"] == comment_id

    # The bot answers the comment (R15): TikTok reports our own reply as a comment too; it is not a callback.
    replied = requests.post(
        f"{live_server.url}/api/v1/clients/{client.pk}/comment-replies/",
        json={"text": "¡Sí! De 9 a 15."},
        headers={"Authorization": f"Api-Key {api_key}"},
        timeout=10,
    )
    assert replied.status_code == 201, replied.text
    control.flush_deliveries()
    own = WebhookEvent.objects.filter(event="comment.update").order_by("-id").first()
    assert (own.status, own.error) == (WebhookEvent.Status.IGNORED, "the account's own comment or reply")

    # TikTok delivers at least once: the same webhooks again change nothing.
    for delivery in control.deliveries(business_id=ACCOUNT):
        control.redeliver(delivery_id=delivery["delivery_id"])
    assert len(bot_receiver.requests) == 5
    assert BotEvent.objects.count() == 5
    assert Message.objects.filter(direction="in").count() == 5
    assert Message.objects.filter(direction="out").count() == 2
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
        WebhookEvent.Status.PROCESSED,
        WebhookEvent.Status.IGNORED,
    }
    assert set(BotEvent.objects.values_list("status", flat=True)) == {BotEvent.DeliveryStatus.DELIVERED}
