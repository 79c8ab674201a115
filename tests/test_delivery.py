"""Push delivery of bot events: signed POSTs, retries with backoff for 24 hours, per-client order."""

import datetime as dt
import hashlib
import hmac
import json

import pytest
import requests
import responses
from django.db import connection
from django.utils import timezone

from clients import delivery, events
from clients.models import BotEvent, DeliveryAttempt
from tests.factories import ClientFactory, ProjectFactory

pytestmark = pytest.mark.django_db

HOOK = "https://bot.example.com/tiktok-events"
SECRET = "cb-secret-0123456789"
ACCOUNT = {"id": 1, "business_id": "biz", "username": "shop"}


@pytest.fixture
def project():
    return ProjectFactory(callback_url=HOOK, callback_secret=SECRET)


@pytest.fixture
def bot():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def emit(django_capture_on_commit_callbacks):
    counter = iter(range(1000))

    def _emit(project, *, client=None, text="hello", execute=True):
        with django_capture_on_commit_callbacks(execute=execute):
            return events.emit(
                project=project,
                event_type=BotEvent.Type.CLIENT_MESSAGE,
                dedupe_key=f"test:{next(counter)}",
                account=ACCOUNT,
                client=client,
                text=text,
            )

    return _emit


def verify(request, secret=SECRET):
    """The bot builder's check, written from the contract: t=<unix>,s=<hex HMAC-SHA256 of "t." + body>."""
    parts = dict(part.split("=", 1) for part in request.headers["X-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts["s"], expected)


def test_push_is_signed_and_recorded(project, bot, emit):
    bot.post(HOOK, status=204)
    event = emit(project)
    request = bot.calls[0].request
    assert verify(request)
    assert request.headers["X-Event-Id"] == str(event.uuid)
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == event.body
    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt_at) == (BotEvent.DeliveryStatus.DELIVERED, 1, None)
    assert event.delivered_at is not None
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.url, attempt.response_status, attempt.error) == (HOOK, 204, "")
    assert attempt.duration_ms >= 0


def test_wrong_secret_does_not_verify(project, bot, emit):
    bot.post(HOOK)
    emit(project)
    assert not verify(bot.calls[0].request, secret="other")


def test_emitting_twice_with_one_key_is_one_event(project, bot, django_capture_on_commit_callbacks):
    bot.post(HOOK)
    with django_capture_on_commit_callbacks(execute=True):
        first = events.emit(project=project, event_type="client.message", dedupe_key="k", account=ACCOUNT)
        second = events.emit(project=project, event_type="client.message", dedupe_key="k", account=ACCOUNT, text="x")
    assert first.pk == second.pk
    assert BotEvent.objects.count() == 1
    assert len(bot.calls) == 1


def test_failure_is_retried_with_backoff_until_it_succeeds(project, bot, emit, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    bot.post(HOOK, status=503, body="maintenance " * 300)
    event = emit(project)
    event.refresh_from_db()
    assert (event.status, event.attempts) == (BotEvent.DeliveryStatus.PENDING, 1)
    assert event.next_attempt_at == timezone.now() + dt.timedelta(seconds=30)
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.response_status, attempt.error) == (503, "HTTP 503")
    assert len(attempt.response_body) == 2000

    assert delivery.sweep() == 0  # not due yet
    delivery.deliver(event_id=event.pk)  # a stray task before it is due does nothing
    assert len(bot.calls) == 1

    time_machine.shift(dt.timedelta(seconds=31))
    assert delivery.sweep() == 1
    event.refresh_from_db()
    assert event.attempts == 2
    assert event.next_attempt_at == timezone.now() + dt.timedelta(seconds=60)

    bot.replace(responses.POST, HOOK, status=200)
    time_machine.shift(dt.timedelta(seconds=61))
    delivery.sweep()
    event.refresh_from_db()
    assert (event.status, event.attempts) == (BotEvent.DeliveryStatus.DELIVERED, 3)
    assert DeliveryAttempt.objects.filter(event=event).count() == 3


def test_network_error_is_recorded(project, bot, emit):
    bot.post(HOOK, body=requests.ConnectionError("connection refused"))
    event = emit(project)
    attempt = DeliveryAttempt.objects.get(event=event)
    assert attempt.response_status is None
    assert "connection refused" in attempt.error


def test_gives_up_after_24_hours(project, bot, emit, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    bot.post(HOOK, status=500)
    event = emit(project)
    time_machine.shift(dt.timedelta(hours=24, seconds=1))
    delivery.sweep()
    event.refresh_from_db()
    assert (event.status, event.next_attempt_at) == (BotEvent.DeliveryStatus.FAILED, None)
    assert delivery.sweep() == 0


def test_redeliver_a_failed_event(project, bot, emit, django_capture_on_commit_callbacks):
    bot.post(HOOK, status=500)
    event = emit(project)
    BotEvent.objects.filter(pk=event.pk).update(status=BotEvent.DeliveryStatus.FAILED, next_attempt_at=None)
    bot.replace(responses.POST, HOOK, status=200)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.redeliver(event=event)
    event.refresh_from_db()
    assert event.status == BotEvent.DeliveryStatus.DELIVERED


def test_without_callback_url_events_are_pull_only(bot, emit):
    event = emit(ProjectFactory(callback_url=""))
    assert event.status == BotEvent.DeliveryStatus.NOT_PUSHED
    assert event.next_attempt_at is None
    assert not bot.calls
    assert delivery.sweep() == 0


def test_a_clients_events_do_not_overtake_each_other(project, bot, emit, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = ClientFactory(channel__project=project)
    other = ClientFactory(channel__project=project)
    bot.post(HOOK, status=500)
    first = emit(project, client=client, text="first")
    second = emit(project, client=client, text="second")
    third = emit(project, client=other, text="other client")
    # The first failed; the second waits behind it; another client's event is not held up.
    assert [json.loads(call.request.body)["text"] for call in bot.calls] == ["first", "other client"]
    bot.replace(responses.POST, HOOK, status=200)
    time_machine.shift(dt.timedelta(seconds=31))
    delivery.sweep()
    texts = [json.loads(call.request.body)["text"] for call in bot.calls]
    assert texts == ["first", "other client", "first", "second", "other client"]
    statuses = set(BotEvent.objects.filter(pk__in=[first.pk, second.pk, third.pk]).values_list("status", flat=True))
    assert statuses == {BotEvent.DeliveryStatus.DELIVERED}


def test_one_task_pushes_a_clients_waiting_events_back_to_back(project, bot, emit, django_assert_max_num_queries):
    client = ClientFactory(channel__project=project)
    bot.post(HOOK)
    queued = [emit(project, client=client, text=f"burst {n}", execute=False) for n in range(4)]
    # One task for the oldest pushes it and then, in order, each of the client's events that waited behind it:
    # five statements a push (load, claim, the attempt, the outcome, the next one), no task queued in between.
    # The claim and the outcome are two transactions (here savepoints: two statements each), each opened on
    # PostgreSQL by a SET LOCAL (their commits do not wait for the disk).
    per_push = 5 + 2 * 2 + (2 if connection.vendor == "postgresql" else 0)
    with django_assert_max_num_queries(per_push * len(queued)):
        delivery.deliver(event_id=queued[0].pk)
    assert [json.loads(call.request.body)["text"] for call in bot.calls] == [f"burst {n}" for n in range(4)]
    assert set(BotEvent.objects.filter(client=client).values_list("status", flat=True)) == {
        BotEvent.DeliveryStatus.DELIVERED
    }


def test_a_claimed_event_is_not_posted_by_a_second_worker(project, bot, emit):
    bot.post(HOOK)
    event = emit(project, execute=False)  # queued, not yet run
    BotEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() + delivery.CLAIM_LEASE)
    delivery.deliver(event_id=event.pk)  # another worker holds the lease
    assert not bot.calls
    BotEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    delivery.deliver(event_id=event.pk)
    delivery.deliver(event_id=event.pk)
    assert len(bot.calls) == 1


def test_sweep_pages_through_every_due_event(project, bot, emit, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    bot.post(HOOK, status=500)
    for n in range(5):
        emit(project, text=f"m{n}")
    time_machine.shift(dt.timedelta(seconds=31))
    bot.replace(responses.POST, HOOK, status=200)
    assert delivery.sweep(batch=2) == 5
    assert set(BotEvent.objects.values_list("status", flat=True)) == {BotEvent.DeliveryStatus.DELIVERED}
