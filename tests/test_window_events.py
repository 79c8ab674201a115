"""window.closing / window.closed / window.opened: once per window, at the right time, across restarts and
workers (the periodic task run again and concurrently), and window.opened before the message that opened it."""

import datetime as dt
import os
import threading

import pytest
from django.db import connection
from django.utils import timezone

from channels_tiktok import tasks
from channels_tiktok.messaging import window_events
from channels_tiktok.models import Conversation
from clients.models import BotEvent
from tests import webhook_cases as wc
from tests.factories import ConversationFactory, TikTokAccountFactory

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def of_type(event_type):
    return list(BotEvent.objects.filter(type=event_type).order_by("id"))


@pytest.fixture
def conversation(db):
    return ConversationFactory(last_inbound_at=T0, window_sent=3)


@pytest.mark.django_db
def test_closing_is_sent_once_an_hour_before_the_end_across_restarts(conversation, time_machine):
    time_machine.move_to(T0 + dt.timedelta(hours=46, minutes=59), tick=False)
    assert tasks.emit_window_events() == {"closing": 0, "closed": 0}
    time_machine.move_to(T0 + dt.timedelta(hours=47, minutes=1), tick=False)
    assert tasks.emit_window_events()["closing"] == 1
    # A restart, a second worker's beat: the same window is not announced again.
    assert tasks.emit_window_events()["closing"] == 0
    time_machine.move_to(T0 + dt.timedelta(hours=47, minutes=30), tick=False)
    assert tasks.emit_window_events()["closing"] == 0
    (event,) = of_type("window.closing")
    assert event.body["data"]["messages_left"] == 7
    assert event.body["data"]["expires_at"] == (T0 + dt.timedelta(hours=48)).isoformat()
    assert event.body["client"]["id"] == conversation.client_id
    assert event.dedupe_key == f"tiktok:window:{conversation.pk}:{T0.isoformat()}:closing"


@pytest.mark.django_db
def test_lead_time_is_a_setting(conversation, time_machine, settings):
    settings.TIKTOK_WINDOW_CLOSING_LEAD_MINUTES = 180
    time_machine.move_to(T0 + dt.timedelta(hours=45, minutes=1), tick=False)
    assert tasks.emit_window_events()["closing"] == 1


@pytest.mark.django_db
def test_closed_with_messages_left_once_when_time_is_up(conversation, time_machine):
    time_machine.move_to(T0 + dt.timedelta(hours=48, seconds=30), tick=False)
    assert tasks.emit_window_events() == {"closing": 0, "closed": 1}
    assert tasks.emit_window_events() == {"closing": 0, "closed": 0}
    (event,) = of_type("window.closed")
    assert event.body["data"]["reason"] == "expired"
    assert event.body["data"]["messages_left"] == 7


@pytest.mark.django_db
def test_exhausted_window_is_closed_at_once_and_gets_no_closing(conversation, time_machine):
    Conversation.objects.filter(pk=conversation.pk).update(window_sent=10)
    time_machine.move_to(T0 + dt.timedelta(hours=2), tick=False)
    assert tasks.emit_window_events() == {"closing": 0, "closed": 1}
    time_machine.move_to(T0 + dt.timedelta(hours=47, minutes=30), tick=False)
    assert tasks.emit_window_events() == {"closing": 0, "closed": 0}
    time_machine.move_to(T0 + dt.timedelta(hours=49), tick=False)
    assert tasks.emit_window_events() == {"closing": 0, "closed": 0}
    (event,) = of_type("window.closed")
    assert (event.body["data"]["reason"], event.body["data"]["messages_left"]) == ("exhausted", 0)


@pytest.mark.django_db
def test_a_new_window_gets_its_own_events(conversation, time_machine):
    time_machine.move_to(T0 + dt.timedelta(hours=47, minutes=30), tick=False)
    tasks.emit_window_events()
    later = T0 + dt.timedelta(hours=47, minutes=45)
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=later, window_sent=0)
    time_machine.move_to(later + dt.timedelta(hours=47, minutes=30), tick=False)
    assert tasks.emit_window_events()["closing"] == 1
    assert len(of_type("window.closing")) == 2


@pytest.mark.django_db
def test_long_gone_windows_are_not_announced(time_machine):
    ConversationFactory(last_inbound_at=T0 - dt.timedelta(days=5))
    time_machine.move_to(T0, tick=False)
    assert tasks.emit_window_events() == {"closing": 0, "closed": 0}


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_one_closing_per_window(time_machine):
    conversations = [ConversationFactory(last_inbound_at=T0, window_sent=1) for _ in range(20)]
    time_machine.move_to(T0 + dt.timedelta(hours=47, minutes=10), tick=False)
    barrier = threading.Barrier(4)
    totals = []

    def worker():
        barrier.wait()
        try:
            totals.append(window_events.emit_due()["closing"])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(totals) == 20
    assert BotEvent.objects.filter(type="window.closing").count() == 20
    assert Conversation.objects.filter(closing_sent_for=T0).count() == len(conversations)


# ------------------------------------------------------------------------------------------ window.opened
@pytest.fixture
def deliver(db, client, django_capture_on_commit_callbacks, time_machine):
    time_machine.move_to(dt.datetime(2025, 11, 24, 16, 0, 30, tzinfo=dt.UTC), tick=True)
    TikTokAccountFactory(business_id=wc.BUSINESS_ID, username="casa.bonita.mx")

    def _deliver(body):
        return wc.deliver(client, django_capture_on_commit_callbacks, body)

    return _deliver


def test_writing_again_after_an_exhausted_window_opens_one_before_the_message(deliver, time_machine):
    deliver(wc.body_of("im_receive_msg_text"))
    assert of_type("window.opened") == []  # first contact: no window to reopen
    Conversation.objects.update(window_sent=10)
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=5), tick=True)
    at = int(timezone.now().timestamp() * 1000)
    deliver(wc.with_content("im_receive_msg_text", message_id="7440000000000000091", timestamp=at))
    (opened,) = of_type("window.opened")
    assert opened.body["data"]["previous"] == "exhausted"
    assert opened.body["data"]["messages_left"] == 10
    newest_message = of_type("client.message")[-1]
    assert opened.pk < newest_message.pk
    # A message within the open window renews it without a window.opened.
    deliver(wc.with_content("im_receive_msg_text", message_id="7440000000000000092", timestamp=at + 1000))
    assert len(of_type("window.opened")) == 1


def test_writing_after_the_window_closed_says_closed(deliver, time_machine):
    deliver(wc.body_of("im_receive_msg_text"))
    time_machine.move_to(timezone.now() + dt.timedelta(hours=50), tick=True)
    at = int(timezone.now().timestamp() * 1000)
    deliver(wc.with_content("im_receive_msg_text", message_id="7440000000000000093", timestamp=at))
    (opened,) = of_type("window.opened")
    assert opened.body["data"]["previous"] == "closed"
