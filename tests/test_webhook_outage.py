"""With the broker or the bot builder down, TikTok still gets its 200 at once, and everything reaches the bot
once they are back: the journal and the outbox are the source of truth, the sweepers pick up lost tasks."""

import datetime as dt
import json
import logging
import time

import pytest
import responses
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal
from clients import delivery
from clients.models import BotEvent, Message
from tests import webhook_cases as wc
from tests.factories import ProjectFactory, TikTokAccountFactory

pytestmark = pytest.mark.django_db

HOOK = "https://bot.example.com/events"
API = "https://business-api.tiktok.com/open_api/v1.3/"


@pytest.fixture
def account():
    project = ProjectFactory(callback_url=HOOK, callback_secret="s3cret")
    return TikTokAccountFactory(business_id=wc.BUSINESS_ID, channel__project=project)


def test_broker_and_bot_down_then_back(
    account, client, broker_down, caplog, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now(), tick=False)
    deliveries = [
        wc.with_content("im_receive_msg_text", timestamp=int(time.time() * 1000)),
        wc.with_content("im_receive_msg_share_post", timestamp=int(time.time() * 1000)),
        wc.body_of("comment_update_insert"),
    ]
    caplog.set_level(logging.WARNING)
    for body in deliveries:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            assert wc.post(client, body).status_code == 200
        assert time.monotonic() - started < 2  # the failed publish does not hold the answer
    assert "tiktok.webhook.enqueue_failed" in caplog.messages
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["pending"] * 3
    assert not Message.objects.exists()

    broker_down()  # the broker is back; the bot builder is still down
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(
            API + constants.PATH_COMMENT_LIST,
            json={
                "code": 0,
                "data": {"comments": [{"comment_id": wc.COMMENT_ID, "text": "nice!", "unique_identifier": wc.USER_ID}]},
            },
        )
        mock.post(HOOK, status=503)
        with django_capture_on_commit_callbacks(execute=True):
            assert journal.sweep() == 0  # within their lease: their tasks may still be on the way
            time_machine.shift(journal.PROCESSING_LEASE + dt.timedelta(seconds=1))
            assert journal.sweep() == 3
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
        assert Message.objects.count() == 3
        assert list(BotEvent.objects.values_list("status", flat=True)) == ["pending"] * 3
        assert len(mock.calls) == 2  # the comment fetch, then the first event (the others wait behind it)

        mock.replace(responses.POST, HOOK, status=200)  # the bot builder is back
        time_machine.shift(dt.timedelta(minutes=1))
        delivery.sweep()
        pushed = [json.loads(call.request.body)["text"] for call in mock.calls if call.request.url == HOOK]
    assert pushed == [
        "Hola! Do you ship to Monterrey?",
        "Hola! Do you ship to Monterrey?",
        "tiktok_client_share_post 7438011223344556677 https://www.tiktok.com/@shop/video/7438011223344556677",
        "tiktok_client_new_comment 7438011223344556677: nice!",
    ]
    assert set(BotEvent.objects.values_list("status", flat=True)) == {BotEvent.DeliveryStatus.DELIVERED}


def test_the_sweeper_run_twice_queues_each_row_once(
    account, broker_down, client, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        wc.post(client, wc.body_of("im_receive_msg_text"))
    time_machine.shift(dt.timedelta(minutes=2))
    assert journal.sweep() == 1
    assert journal.sweep() == 0  # the first pushed the lease forward
    time_machine.shift(journal.PROCESSING_LEASE + dt.timedelta(seconds=1))
    assert journal.sweep() == 1  # that task was lost too: queued again


def test_the_sweeper_takes_every_due_row_in_batches(account, broker_down, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for n in range(5):
        journal.record_delivery(
            body=wc.with_content("im_receive_msg_text", message_id=f"74400000000000009{n:02d}"), headers={}
        )
    time_machine.shift(journal.PROCESSING_LEASE + dt.timedelta(seconds=1))
    assert journal.sweep(batch=2) == 5
    assert journal.sweep(batch=2) == 0
