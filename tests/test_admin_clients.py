"""The staff console for clients, the message log and conversations."""

import pytest
from django.urls import reverse

from clients.models import Message
from tests.factories import ClientVariableFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation():
    conversation = ConversationFactory(window_sent=4)
    ClientVariableFactory(client=conversation.client, key="tiktok_conversation_id", value=conversation.conversation_id)
    MessageFactory(client=conversation.client, text="hola")
    MessageFactory(
        client=conversation.client,
        direction=Message.Direction.OUTBOUND,
        source=Message.Source.BOT,
        status=Message.Status.FAILED,
        error_code="quota_exhausted",
        text="one too many",
    )
    return conversation


def test_client_page_shows_variables_window_and_messages(admin_client, conversation):
    page = admin_client.get(reverse("admin:clients_client_change", args=[conversation.client.pk])).content.decode()
    assert conversation.conversation_id in page
    assert "6 message(s) left" in page
    assert "one too many" in page
    assert "quota_exhausted" in page


def test_message_log_filters(admin_client, conversation):
    url = reverse("admin:clients_message_changelist")
    base = {"channel": conversation.client.channel_id}
    failed = admin_client.get(url, {**base, "direction": "out", "status": "failed", "error_code": "quota_exhausted"})
    assert failed.status_code == 200
    assert [m.text for m in failed.context["cl"].result_list] == ["one too many"]
    ok = admin_client.get(url, {**base, "error_code": ""})
    assert [m.text for m in ok.context["cl"].result_list] == ["hola"]


def test_conversation_list_shows_window(admin_client, conversation):
    response = admin_client.get(reverse("admin:channels_tiktok_conversation_changelist"))
    assert response.status_code == 200
    assert conversation.conversation_id in response.content.decode()
    detail = admin_client.get(reverse("admin:channels_tiktok_conversation_change", args=[conversation.pk]))
    assert detail.status_code == 200
