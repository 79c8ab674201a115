"""Staff find the account from any id a ticket quotes, and every big list searches by exact, indexed ids."""

import pytest
from django.urls import reverse

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from clients.models import Message
from tests.factories import (
    BotEventFactory,
    ClientFactory,
    ClientVariableFactory,
    ConversationFactory,
    MessageFactory,
    TikTokAccountFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db

ACCOUNTS = "admin:channels_tiktok_tiktokaccount_changelist"


def _found_accounts(admin_client, term: str) -> set[str]:
    response = admin_client.get(reverse(ACCOUNTS), {"q": term})
    assert response.status_code == 200
    return {account.username for account in response.context["cl"].result_list}


@pytest.fixture
def two_accounts():
    """The account staff look for, with one item of each kind of id, and a bystander without any."""
    target = TikTokAccountFactory(username="taqueria", business_id="-000Taqueria_business")
    TikTokAccountFactory(username="bystander", business_id="-000Bystander_business")
    client = ClientFactory(channel=target.channel, external_id="user-unique-ticket")
    ConversationFactory(account=target, client=client, conversation_id="0:1:ticket+conversation")
    MessageFactory(client=client, external_id="msg-from-ticket")
    WebhookEventFactory(account=target, comment_id="7439122334455667788", event=constants.EVENT_COMMENT_UPDATE)
    ClientVariableFactory(client=client, key=constants.VAR_COMMENT_ID, value="7439000000000000001")
    return target


@pytest.mark.parametrize(
    "term",
    [
        "taqueria",  # username
        "@taqueria",  # username as TikTok shows it
        "-000Taqueria_business",  # business id (user_openid)
        "0:1:ticket+conversation",  # conversation id
        "7439122334455667788",  # comment id from the journal
        "7439000000000000001",  # comment id from the client's variables
        "msg-from-ticket",  # a message id
        "user-unique-ticket",  # a client's external id
    ],
)
def test_account_is_found_by_any_ticket_id(admin_client, two_accounts, term):
    assert _found_accounts(admin_client, term) == {"taqueria"}


def test_unknown_id_finds_nothing_and_partial_ids_are_not_matched(admin_client, two_accounts):
    assert _found_accounts(admin_client, "0:1:nobody") == set()
    assert _found_accounts(admin_client, "7439122334") == set()  # ids match exactly, never by prefix


def test_message_log_search_is_exact_on_the_message_id(admin_client):
    wanted = MessageFactory(external_id="m-ABC-1")
    MessageFactory(external_id="m-abc-1")  # ids are case-sensitive (TikTok's are)
    response = admin_client.get(reverse("admin:clients_message_changelist"), {"q": " m-ABC-1 "})
    assert [m.pk for m in response.context["cl"].result_list] == [wanted.pk]


def test_journal_search_by_conversation_comment_business_and_dedupe_key(admin_client):
    row = WebhookEventFactory(
        conversation_id="0:1:conv", comment_id="7439", business_id="-000biz", dedupe_key="comment:7439:1"
    )
    WebhookEventFactory(conversation_id="0:1:other")
    for term in ("0:1:conv", "7439", "-000biz", "comment:7439:1"):
        response = admin_client.get(reverse("admin:channels_tiktok_webhookevent_changelist"), {"q": term})
        assert [r.pk for r in response.context["cl"].result_list] == [row.pk], term


def test_client_search_by_external_id_and_username(admin_client):
    wanted = ClientFactory(external_id="ext-1", username="maria")
    ClientFactory(external_id="ext-10", username="mariana")
    for term in ("ext-1", "maria", "@maria"):
        response = admin_client.get(reverse("admin:clients_client_changelist"), {"q": term})
        assert [c.pk for c in response.context["cl"].result_list] == [wanted.pk], term


def test_bot_event_search_by_uuid_and_dedupe_key(admin_client):
    event = BotEventFactory(dedupe_key="msg:m1")
    BotEventFactory()
    url = reverse("admin:clients_botevent_changelist")
    for term in (str(event.uuid), "msg:m1"):
        assert [e.pk for e in admin_client.get(url, {"q": term}).context["cl"].result_list] == [event.pk]
    assert list(admin_client.get(url, {"q": "not-a-uuid"}).context["cl"].result_list) == []


def test_conversation_search_and_account_filter(admin_client):
    conversation = ConversationFactory(conversation_id="0:1:abc")
    other = ConversationFactory()
    url = reverse("admin:channels_tiktok_conversation_changelist")
    assert [c.pk for c in admin_client.get(url, {"q": "0:1:abc"}).context["cl"].result_list] == [conversation.pk]
    by_account = admin_client.get(url, {"account": other.account_id}).context["cl"].result_list
    assert [c.pk for c in by_account] == [other.pk]


def test_id_filters_narrow_the_big_lists(admin_client):
    account = TikTokAccountFactory()
    mine = MessageFactory(client=ClientFactory(channel=account.channel))
    MessageFactory()
    event = WebhookEventFactory(account=account, status=WebhookEvent.Status.FAILED)
    WebhookEventFactory(status=WebhookEvent.Status.FAILED)

    messages = admin_client.get(reverse("admin:clients_message_changelist"), {"channel": account.pk})
    assert [m.pk for m in messages.context["cl"].result_list] == [mine.pk]
    assert b'name="channel" value="%d"' % account.pk in messages.content  # the text box keeps the value
    by_client = admin_client.get(reverse("admin:clients_message_changelist"), {"client": mine.client_id})
    assert [m.pk for m in by_client.context["cl"].result_list] == [mine.pk]
    journal = admin_client.get(
        reverse("admin:channels_tiktok_webhookevent_changelist"), {"account": account.pk, "status__exact": "failed"}
    )
    assert [r.pk for r in journal.context["cl"].result_list] == [event.pk]
    assert (
        admin_client.get(reverse("admin:clients_message_changelist"), {"channel": "x"}).context["cl"].result_count == 0
    )


def test_since_filter_on_messages_and_journal(admin_client):
    old = MessageFactory()
    Message.objects.filter(pk=old.pk).update(created_at=old.created_at.replace(year=2020))
    new = MessageFactory()
    response = admin_client.get(reverse("admin:clients_message_changelist"), {"since": "24h"})
    assert [m.pk for m in response.context["cl"].result_list] == [new.pk]
    journal = admin_client.get(reverse("admin:channels_tiktok_webhookevent_changelist"), {"since": "1h"})
    assert journal.status_code == 200
