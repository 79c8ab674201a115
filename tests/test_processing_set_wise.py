"""A worker writes a batch of direct messages set-wise (handlers.receive_messages): one statement per kind of row
for the whole batch. The result must be exactly that of applying the same rows one at a time, in arrival order,
including what each bot event says about the client's variables at that moment."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import Conversation, WebhookEvent
from channels_tiktok.webhooks import journal, processing
from clients.models import BotEvent, Client, ClientVariable, Message
from tests import webhook_cases as wc
from tests.factories import (
    ClientFactory,
    ClientVariableFactory,
    ConversationFactory,
    MessageFactory,
    TikTokAccountFactory,
)

pytestmark = pytest.mark.django_db

OTHER_BUSINESS_ID = "-000SecondBusinessAccount_biz"


def delivery(name: str, business_id: str, **content) -> bytes:
    envelope = json.loads(wc.with_content(name, **content))
    envelope["user_openid"] = business_id
    return json.dumps(envelope).encode()


def scenario(business_id: str, base: dt.datetime, series: int) -> list[bytes]:
    """Three users; one writes out of order, changes is_follower and its name, taps a button, reads our message;
    one moves to another conversation; one is new and shares a video; one is a template message."""
    ms = int(base.timestamp() * 1000)

    def message(n: int, user: str, conversation: str, at: int, name: str = "im_receive_msg_text", **more) -> bytes:
        return delivery(
            name,
            business_id,
            message_id=f"7440000000000{series}{n:05d}",
            unique_identifier=user,
            from_user={"id": user, "role": "personal_account"},
            conversation_id=conversation,
            timestamp=ms + at,
            **more,
        )

    return [
        message(1, "user-1", "0:1:user-1", 5000, **{"from": "alice", "is_follower": True, "text": {"body": "one"}}),
        message(2, "user-2", "0:1:user-2:a", 3000, **{"from": "bob", "is_follower": False, "text": {"body": "two"}}),
        message(3, "user-1", "0:1:user-1", 2000, **{"from": "alice2", "is_follower": False, "text": {"body": "3"}}),
        delivery(
            "im_mark_read_msg", business_id, conversation_id="0:1:user-1", read={"last_read_timestamp": ms + 6000}
        ),
        message(5, "user-1", "0:1:user-1", 9000, name="im_receive_msg_button_tap", **{"from": "user-1"}),
        message(
            6, "user-2", "0:1:user-2:b", 1000, name="im_receive_msg_sticker", **{"from": "bob", "type": "template"}
        ),
        message(7, "user-3", "0:1:user-3", 4000, name="im_receive_msg_share_post", **{"from": "carol"}),
    ]


def seed(business_id: str, base: dt.datetime):
    """user-1 is known: an older name, variables, a window with 4 messages used, one of our messages unread."""
    account = TikTokAccountFactory(business_id=business_id)
    client = ClientFactory(
        channel=account.channel,
        external_id="user-1",
        display_name="Alice",
        username="old",
        last_message_at=base + dt.timedelta(seconds=1),
    )
    ClientVariableFactory(client=client, key=constants.VAR_IS_FOLLOWER, value="False")
    ClientVariableFactory(client=client, key="city", value="Monterrey")
    ConversationFactory(
        account=account, client=client, conversation_id="0:1:user-1", last_inbound_at=base, window_sent=4
    )
    MessageFactory(
        client=client,
        direction=Message.Direction.OUTBOUND,
        source=Message.Source.BOT,
        status=Message.Status.SENT,
        sent_at=base + dt.timedelta(milliseconds=500),
        external_id="our-message",
    )
    return account


# Ours, or told apart by the series of the scenario.
NOT_COMPARED = {"message": None, "message_id": None, "button_message_id": None}


def snapshot(account) -> dict:
    """Everything processing wrote for one account, without ids, keys and times of our own making."""
    channel = account.channel
    clients = Client.objects.filter(channel=channel)
    bot_events: dict[str, list] = {}
    for event in BotEvent.objects.filter(channel=channel).select_related("client").order_by("id"):
        body = event.body
        bot_events.setdefault(event.client.external_id, []).append(
            (event.type, body["text"], body["client"]["variables"], {**body["data"], **NOT_COMPARED})
        )
    return {
        "clients": sorted(clients.values_list("external_id", "display_name", "username", "last_message_at")),
        "variables": sorted(
            ClientVariable.objects.filter(client__channel=channel).values_list("client__external_id", "key", "value")
        ),
        "conversations": sorted(
            Conversation.objects.filter(account=account).values_list(
                "client__external_id", "conversation_id", "last_inbound_at", "window_sent"
            )
        ),
        "messages": sorted(
            (direction, external_id[-5:], *rest)
            for direction, external_id, *rest in Message.objects.filter(channel=channel).values_list(
                "direction", "external_id", "client__external_id", "kind", "status", "text", "read_at"
            )
        ),
        "bot_events": bot_events,
        "journal": list(
            WebhookEvent.objects.filter(business_id=account.business_id)
            .order_by("id")
            .values_list("event", "status", "error", "attempts")
        ),
    }


def record_all(bodies: list[bytes]) -> list[int]:
    ids = []
    for body in bodies:
        event_id, created = journal.record_delivery(body=body, headers={})
        assert created
        ids.append(event_id)
    return ids


def test_a_batch_writes_what_the_rows_one_at_a_time_write(django_capture_on_commit_callbacks):
    base = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    batched, single = seed(wc.BUSINESS_ID, base), seed(OTHER_BUSINESS_ID, base)
    with django_capture_on_commit_callbacks():  # no task runs by itself
        batched_ids = record_all(scenario(wc.BUSINESS_ID, base, series=1))
        single_ids = record_all(scenario(OTHER_BUSINESS_ID, base, series=2))
    # One at a time, in arrival order, each row in its own transaction.
    for event_id in single_ids:
        processing.process_event(event_id=event_id)
    assert WebhookEvent.objects.filter(pk__in=batched_ids, status=WebhookEvent.Status.PENDING).count() == 7
    processing.drain(batched_ids[0])  # one batch holds all seven rows

    expected = snapshot(single)
    assert snapshot(batched) == expected
    # And the one-at-a-time result is the right one in the first place.
    assert expected["clients"] == [
        ("user-1", "Alice", "alice2", base + dt.timedelta(seconds=9)),  # the newest message, the latest name given
        ("user-2", "", "bob", base + dt.timedelta(seconds=3)),
        ("user-3", "", "carol", base + dt.timedelta(seconds=4)),
    ]
    assert expected["conversations"] == [
        ("user-1", "0:1:user-1", base + dt.timedelta(seconds=9), 0),  # a fresh window from the newest message
        ("user-2", "0:1:user-2:b", base + dt.timedelta(seconds=3), 0),  # moved; an older message opens nothing
        ("user-3", "0:1:user-3", base + dt.timedelta(seconds=4), 0),
    ]
    user_1 = [(kind, text, variables) for kind, text, variables, _data in expected["bot_events"]["user-1"]]
    follower, conversation = constants.VAR_IS_FOLLOWER, constants.VAR_CONVERSATION_ID
    assert user_1[0][2] == {"city": "Monterrey", conversation: "0:1:user-1", follower: "True"}
    assert user_1[1][2][follower] == "False"  # each event tells the variables right after its own row
    assert user_1[2][0] == BotEvent.Type.MESSAGE_STATUS  # the read receipt, between the messages
    assert user_1[3][2][follower] == "False"  # a button tap says nothing about following: unchanged
    assert ("user-1", follower, "False") in expected["variables"]
    assert [row[1] for row in expected["journal"]] == [WebhookEvent.Status.PROCESSED] * 7
    assert expected["journal"][5][2] == ""  # a template is a kind of its own, told as such


def test_a_batch_costs_the_same_queries_for_5_rows_as_for_20(django_capture_on_commit_callbacks):
    # Heard from within the minute: neither drain moves its `last_webhook_at` (at most one write a minute).
    TikTokAccountFactory(business_id=wc.BUSINESS_ID, last_webhook_at=timezone.now())

    def drain_new_users(first: int, count: int) -> int:
        with django_capture_on_commit_callbacks():
            ids = record_all(
                [
                    delivery(
                        "im_receive_msg_text",
                        wc.BUSINESS_ID,
                        message_id=f"74400000000008{n:05d}",
                        unique_identifier=f"new-user-{n}",
                        conversation_id=f"0:1:new-user-{n}",
                    )
                    for n in range(first, first + count)
                ]
            )
        with CaptureQueriesContext(connection) as queries:
            processing.drain(ids[0])
        assert WebhookEvent.objects.filter(pk__in=ids, status=WebhookEvent.Status.PROCESSED).count() == count
        return len(queries)

    assert processing.PROCESS_BATCH >= 20
    assert drain_new_users(0, 5) == drain_new_users(100, 20)
    assert Client.objects.count() == BotEvent.objects.count() == Message.objects.count() == 25
