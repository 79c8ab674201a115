"""Sender actions (typing, mark read) against the sandbox over HTTP: the endpoint, the send option, refusals."""

import pytest

from channels_tiktok import constants
from channels_tiktok.models import Conversation
from clients.models import Message
from tests.sandbox_world import *  # noqa: F403
from tests.sandbox_world import ACCOUNT, USER

pytestmark = pytest.mark.django_db

SEND = constants.PATH_MESSAGE_SEND


def action_url(world):
    return f"/api/v1/clients/{world.client.pk}/actions/"


def conversation_id(world):
    return Conversation.objects.get(client=world.client).conversation_id


@pytest.mark.parametrize(("action", "tiktok_action"), [("typing", "TYPING"), ("mark_read", "MARK_READ")])
def test_action_reaches_tiktok_and_takes_no_window_slot(world, action, tiktok_action):
    response = world.api.post(action_url(world), {"action": action}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"action": action}
    assert [c["body"] for c in world.calls(SEND)] == [
        {
            "business_id": ACCOUNT,
            "recipient_type": "CONVERSATION",
            "recipient": conversation_id(world),
            "message_type": "SENDER_ACTION",
            "sender_action": tiktok_action,
        }
    ]
    assert Conversation.objects.get(client=world.client).window_sent == 0
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_mark_read_shows_seen_in_the_sandbox(world):
    world.api.post(action_url(world), {"action": "mark_read"}, format="json")
    conversation = world.sandbox.sandbox.state.conversations[conversation_id(world)]
    assert conversation.business_read_ms is not None


def test_unknown_action_is_422_before_any_call(world):
    response = world.api.post(action_url(world), {"action": "dance"}, format="json")
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("sender_action_unknown", "action")]
    assert world.calls(SEND) == []


def test_closed_window_is_409_before_any_call(world):
    world.control.advance_clock(hours=49)
    Conversation.objects.filter(client=world.client).update(
        last_inbound_at=Conversation.objects.get(client=world.client).last_inbound_at.replace(year=2000)
    )
    response = world.api.post(action_url(world), {"action": "typing"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "window_closed")
    assert world.calls(SEND) == []


def test_tiktok_refuses_outside_its_window_with_its_window_code(world):
    """TikTok's clock ran past the window while our ledger still counts it open: TikTok refuses (40064)."""
    world.control.advance_clock(hours=49)
    conversation = Conversation.objects.get(client=world.client)

    response = world.api.post(action_url(world), {"action": "typing"}, format="json")
    assert response.status_code == 502
    assert (response.json()["code"], response.json()["tiktok_code"]) == ("tiktok_rejected", constants.CODE_DM_RULES)
    # The expired token was refreshed once on the way; every call was the sender action, none was a message.
    assert {c["body"]["message_type"] for c in world.calls(SEND)} == {"SENDER_ACTION"}
    assert world.control.sent_messages(account=ACCOUNT) == []
    conversation.refresh_from_db()
    assert conversation.window_sent == 0


def test_no_conversation_is_409(sandbox_to_django, db):
    from tests.factories import ClientFactory
    from tests.sandbox_world import build_world

    world = build_world(sandbox_to_django, write=False)
    client = ClientFactory(channel=world.account.channel)
    response = world.api.post(f"/api/v1/clients/{client.pk}/actions/", {"action": "typing"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "no_conversation")


def test_full_quota_still_allows_actions(world):
    Conversation.objects.filter(client=world.client).update(window_sent=constants.WINDOW_MAX_MESSAGES)
    response = world.api.post(action_url(world), {"action": "typing"}, format="json")
    assert response.status_code == 200


def test_actions_go_through_the_rate_limiter(world, settings):
    from channels_tiktok.tiktok import ratelimit

    settings.TIKTOK_RATE_LIMIT_QPS = 1
    settings.TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS = 0
    ratelimit.reset()
    first = world.api.post(action_url(world), {"action": "typing"}, format="json")
    second = world.api.post(action_url(world), {"action": "typing"}, format="json")
    assert first.status_code == 200
    assert (second.status_code, second.json()["code"]) == (429, "rate_limited")
    assert second.has_header("Retry-After")
    assert len(world.calls(SEND)) == 1


def test_send_option_marks_read_and_types_before_the_message(world):
    response = world.api.post(
        f"/api/v1/clients/{world.client.pk}/messages/",
        {"text": "¡Hola!", "sender_actions": ["mark_read", "typing"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    bodies = [c["body"] for c in world.calls(SEND)]
    assert [(b["message_type"], b.get("sender_action")) for b in bodies] == [
        ("SENDER_ACTION", "MARK_READ"),
        ("SENDER_ACTION", "TYPING"),
        ("TEXT", None),
    ]
    assert bodies[2]["text"] == {"body": "¡Hola!"}
    assert response.json()["payload"]["sender_actions"] == [
        {"action": "mark_read", "ok": True},
        {"action": "typing", "ok": True},
    ]
    assert Conversation.objects.get(client=world.client).window_sent == 1
    sent = world.control.sent_messages(account=ACCOUNT, user=USER)
    assert [m["body"] for m in sent] == [{"body": "¡Hola!"}]


def test_send_option_with_an_unknown_action_is_422_and_sends_nothing(world):
    response = world.api.post(
        f"/api/v1/clients/{world.client.pk}/messages/",
        {"text": "hi", "sender_actions": ["typing", "wave"]},
        format="json",
    )
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("sender_action_unknown", "sender_actions.1")
    ]
    assert world.calls(SEND) == []
