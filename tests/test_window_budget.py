"""The slot budget: the window endpoint, the window in every send's answer, `last_message`, `reserve_last`."""

import pytest

from channels_tiktok.messaging import rules
from channels_tiktok.models import Conversation
from tests.outbound_fixtures import *  # noqa: F403
from tests.outbound_fixtures import add_send, sent_bodies

pytestmark = pytest.mark.django_db


def send(api, conversation, **body):
    return api.post(f"/api/v1/clients/{conversation.client_id}/messages/", body, format="json")


def set_sent(conversation, n):
    Conversation.objects.filter(pk=conversation.pk).update(window_sent=n)


def test_window_endpoint_tells_messages_left_and_expiry(api, conversation):
    set_sent(conversation, 3)
    response = api.get(f"/api/v1/clients/{conversation.client_id}/window/")
    assert response.status_code == 200
    body = response.json()
    assert body["open"] is True
    assert body["messages_left"] == 7
    expected = conversation.last_inbound_at + rules.WINDOW
    assert body["expires_at"].startswith(expected.strftime("%Y-%m-%dT%H:%M:%S"))


def test_window_endpoint_of_another_projects_client_is_404(api, account):
    from tests.factories import ConversationFactory

    other = ConversationFactory()
    assert api.get(f"/api/v1/clients/{other.client_id}/window/").status_code == 404


def test_each_send_answers_the_budget_and_the_tenth_is_flagged_last(api, conversation, tiktok):
    add_send(tiktok)
    set_sent(conversation, 8)
    ninth = send(api, conversation, text="ninth")
    assert ninth.status_code == 201, ninth.json()
    assert ninth.json()["window"]["messages_left"] == 1
    assert ninth.json()["window"]["last_message"] is False
    tenth = send(api, conversation, text="tenth")
    assert tenth.status_code == 201
    assert tenth.json()["window"] == {**tenth.json()["window"], "messages_left": 0, "last_message": True}
    assert tenth.json()["window"]["expires_at"]
    assert send(api, conversation, text="eleventh").json()["code"] == "quota_exhausted"


def test_reserve_last_keeps_the_last_slot_for_a_send_marked_last(api, conversation, tiktok):
    add_send(tiktok)
    set_sent(conversation, 8)
    assert send(api, conversation, text="ninth", reserve_last=True).status_code == 201
    refused = send(api, conversation, text="routine", reserve_last=True)
    assert refused.status_code == 409
    assert refused.json()["code"] == "last_slot_reserved"
    assert Conversation.objects.get(pk=conversation.pk).window_sent == 9
    assert len(sent_bodies(tiktok)) == 1
    goodbye = send(api, conversation, text="Bye! Write to continue.", reserve_last=True, last=True)
    assert goodbye.status_code == 201
    assert goodbye.json()["window"]["last_message"] is True


def test_slot_refusal_rule():
    assert rules.slot_refusal(1, reserve_last=True, last=False) == "last_slot_reserved"
    assert rules.slot_refusal(1, reserve_last=True, last=True) is None
    assert rules.slot_refusal(2, reserve_last=True, last=False) is None
    assert rules.slot_refusal(1, reserve_last=False, last=False) is None
