"""Delivery at the next window: queued sends go out first (before the bot hears of the new message), in order,
within the new window's ten; the rest waits for the window after; listing, cancelling, expiry."""

import datetime as dt
import json

import pytest
import responses
from django.utils import timezone

from channels_tiktok import tasks
from channels_tiktok.models import Conversation, QueuedSend
from clients.models import BotEvent, Client
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory
from tests.outbound_fixtures import *  # noqa: F403
from tests.outbound_fixtures import add_send, sent_bodies

HOOK = "https://bot.example.com/hook"
pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(project, api, client, django_capture_on_commit_callbacks, time_machine):
    """A client who wrote on 2025-11-24; the clock is then moved past their window."""
    time_machine.move_to(dt.datetime(2025, 11, 24, 16, 0, 30, tzinfo=dt.UTC), tick=True)
    project.callback_url = HOOK
    project.save()
    TikTokAccountFactory(
        channel__project=project,
        business_id=wc.BUSINESS_ID,
        username="casa.bonita.mx",
        access_token_expires_at=timezone.now() + dt.timedelta(days=60),
    )
    counter = iter(range(100, 200))

    def writes(text="otra vez"):
        at = int(timezone.now().timestamp() * 1000)
        body = wc.with_content(
            "im_receive_msg_text", message_id=f"74400000000000{next(counter)}", timestamp=at, text={"body": text}
        )
        wc.deliver(client, django_capture_on_commit_callbacks, body)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, HOOK, status=200)
        add_send(mock)
        writes("hola")
        time_machine.move_to(timezone.now() + dt.timedelta(hours=49), tick=True)
        yield {"client": Client.objects.get(), "writes": writes, "tiktok": mock, "api": api}


def queue_send(chat, text, **extra):
    url = f"/api/v1/clients/{chat['client'].pk}/messages/"
    return chat["api"].post(url, {"text": text, "when_closed": "queue", **extra}, format="json")


def test_a_closed_window_queues_and_the_message_goes_first_when_the_client_writes(chat):
    response = queue_send(chat, "Your order shipped")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued_for_next_window"
    assert sent_bodies(chat["tiktok"]) == []
    # Without "queue" the send is refused as before.
    refused = chat["api"].post(f"/api/v1/clients/{chat['client'].pk}/messages/", {"text": "x"}, format="json")
    assert refused.json()["code"] == "window_closed"

    chat["writes"]("¿y mi pedido?")
    calls = [call.request for call in chat["tiktok"].calls]
    sends = [i for i, r in enumerate(calls) if r.url.endswith("message/send/")]
    pushes = [i for i, r in enumerate(calls) if r.url == HOOK and json.loads(r.body)["text"] == "¿y mi pedido?"]
    assert len(sends) == 1
    assert len(pushes) == 1
    assert sends[0] < pushes[0]  # the queued message went out before the bot heard of the new message
    assert sent_bodies(chat["tiktok"])[0]["text"] == {"body": "Your order shipped"}
    queued = QueuedSend.objects.get()
    assert queued.status == "sent"
    assert queued.message.status == "sent"
    assert Conversation.objects.get().window_sent == 1


def test_eleven_queued_ten_go_now_in_order_the_eleventh_waits_for_the_window_after(chat, time_machine):
    for n in range(1, 12):
        assert queue_send(chat, f"update {n}").status_code == 202
    listed = chat["api"].get(f"/api/v1/clients/{chat['client'].pk}/queued-messages/").json()
    assert [q["text"] for q in listed] == [f"update {n}" for n in range(1, 12)]

    chat["writes"]()
    assert [b["text"]["body"] for b in sent_bodies(chat["tiktok"])] == [f"update {n}" for n in range(1, 11)]
    assert Conversation.objects.get().window_sent == 10
    (waiting,) = QueuedSend.objects.filter(status="queued_for_next_window")
    assert waiting.text == "update 11"
    window = chat["api"].get(f"/api/v1/clients/{chat['client'].pk}/window/").json()
    assert window["messages_left"] == 0

    time_machine.move_to(timezone.now() + dt.timedelta(minutes=5), tick=True)
    chat["writes"]()
    assert sent_bodies(chat["tiktok"])[-1]["text"] == {"body": "update 11"}
    assert not QueuedSend.objects.filter(status="queued_for_next_window").exists()


def test_a_queued_message_can_be_cancelled(chat):
    queued_id = queue_send(chat, "never mind").json()["id"]
    url = f"/api/v1/clients/{chat['client'].pk}/queued-messages/{queued_id}/"
    assert chat["api"].delete(url).status_code == 204
    second = chat["api"].delete(url)
    assert (second.status_code, second.json()["code"]) == (409, "not_queued")
    chat["writes"]()
    assert sent_bodies(chat["tiktok"]) == []


def test_a_queued_message_expires_with_its_event(chat, time_machine, settings):
    settings.TIKTOK_QUEUED_MESSAGE_TTL_DAYS = 2
    queue_send(chat, "promo")
    time_machine.move_to(timezone.now() + dt.timedelta(days=1), tick=True)
    assert tasks.sweep_queued_messages()["expired"] == 0
    time_machine.move_to(timezone.now() + dt.timedelta(days=1, minutes=1), tick=True)
    assert tasks.sweep_queued_messages()["expired"] == 1
    assert tasks.sweep_queued_messages()["expired"] == 0
    (event,) = BotEvent.objects.filter(type="message.expired")
    assert event.body["text"] == "promo"
    assert event.body["data"]["status"] == "expired"
    chat["writes"]()
    assert sent_bodies(chat["tiktok"]) == []


def test_an_open_window_sends_at_once_even_with_queue(chat, time_machine):
    chat["writes"]()
    response = queue_send(chat, "now")
    assert response.status_code == 201
    assert response.json()["window"]["messages_left"] == 9
