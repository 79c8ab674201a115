"""At-least-once delivery from TikTok, processed exactly once: duplicates race through the real receiver from
several threads, each with its own database connection, and leave one journal row, one message and one bot
event per distinct event (B2)."""

import datetime as dt
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import DatabaseError, connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal
from channels_tiktok.webhooks.intake.insert import write_batch
from clients.models import BotEvent, Client, Message
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory, WebhookEventFactory

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def _bodies(events: int, users: int) -> list[bytes]:
    return [
        wc.with_content(
            "im_receive_msg_text",
            message_id=str(7440000000000100000 + n),
            unique_identifier=f"user-{n % users}",
            conversation_id=f"0:1:{n % users}:conv",
            text={"body": f"message {n}"},
            timestamp=int(time.time() * 1000) - events + n,
        )
        for n in range(events)
    ]


def _race(bodies: list[bytes], *, copies: int, threads: int) -> list[int]:
    deliveries = [body for body in bodies for _ in range(copies)]
    random.Random(42).shuffle(deliveries)
    local = threading.local()

    def send(body: bytes) -> int:
        if not hasattr(local, "client"):
            local.client = HttpClient()
        return wc.post(local.client, body).status_code

    def send_all(chunk: list[bytes]) -> list[int]:
        try:
            return [send(body) for body in chunk]
        finally:
            connection.close()

    chunks = [deliveries[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [code for codes in pool.map(send_all, chunks) for code in codes]


def _assert_exactly_once(events: int, users: int):
    assert WebhookEvent.objects.count() == events
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    assert Message.objects.count() == events
    assert BotEvent.objects.count() == events
    assert Client.objects.count() == users
    assert Message.objects.values("external_id").distinct().count() == events


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_thousand_events_five_copies_each_from_eight_threads():
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    events, users = 1000, 50
    started = time.monotonic()
    codes = _race(_bodies(events, users), copies=5, threads=8)
    elapsed = time.monotonic() - started
    assert codes == [200] * (events * 5)
    _assert_exactly_once(events, users)
    print(f"\n5000 deliveries (1000 distinct) through the receiver with processing: {elapsed:.1f}s")  # noqa: T201


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_take_each_lost_row_once():
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    rows = 200
    lost = timezone.now() - dt.timedelta(minutes=5)
    for n, body in enumerate(_bodies(rows, users=10)):
        WebhookEventFactory(
            event="im_receive_msg",
            business_id=wc.BUSINESS_ID,
            dedupe_key=f"lost:{n}",
            raw_body=body.decode(),
            next_attempt_at=lost,
        )
    barrier = threading.Barrier(2)

    def sweeper() -> int:
        try:
            barrier.wait()
            return journal.sweep(batch=rows)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda _: sweeper(), range(2)))
    assert sum(counts) == rows
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED, attempts=1).count() == rows
    assert Message.objects.count() == rows


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_a_batch_with_a_row_the_database_refuses_still_stores_the_others():
    """The group commit's write (intake/insert.py): one statement for the batch; when the database refuses one row,
    the others are stored one by one and only that delivery fails (TikTok retries it)."""
    now = timezone.now()

    def row(n: int, **changes) -> dict:
        return {
            "received_at": now,
            "raw_body": "{}",
            "headers": {},
            "event": "im_receive_msg",
            "dedupe_key": f"batch:{n}",
            "status": WebhookEvent.Status.PENDING,
            "next_attempt_at": now,
        } | changes

    outcomes = write_batch([row(1), row(2, event="x" * 65), row(1), row(3), row(5, conversation_id="\ud800")])
    assert isinstance(outcomes[1], DatabaseError)  # too long for the column
    assert isinstance(outcomes[4], UnicodeEncodeError)  # a str that is not UTF-8: psycopg cannot send it
    first, _, duplicate, third, _ = outcomes
    assert duplicate is None  # the same key as the first row: one row, like any duplicate delivery
    assert sorted(WebhookEvent.objects.values_list("pk", flat=True)) == sorted([first, third])
    # Without a refused row the batch is one statement; a key already stored and a key repeated in the batch
    # both come back as duplicates.
    again = write_batch([row(3), row(4), row(4)])
    stored, new, repeated = again
    assert stored is None
    assert repeated is None
    assert WebhookEvent.objects.get(dedupe_key="batch:4").pk == new


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_a_large_batch_is_one_statement_with_every_value_in_its_row():
    """Twelve rows are 180 parameters, past the 50 below which psycopg caches its parsing of `%s` placeholders, so
    the statement is written with PostgreSQL's own (`$1`…`$180`, numbered row by row): one statement, and each
    value in its own row and column."""
    now = timezone.now()
    rows = [
        {
            "received_at": now - dt.timedelta(seconds=n),
            "raw_body": f'{{"n": {n}}}',
            "headers": {"User-Agent": f"agent-{n}"},
            "event": f"event-{n}",
            "dedupe_key": f"large:{n}",
            "conversation_id": f"conversation-{n}",
            "status": WebhookEvent.Status.PENDING,
            "next_attempt_at": now + dt.timedelta(seconds=n),
        }
        for n in range(12)
    ]
    with CaptureQueriesContext(connection) as captured:
        ids = write_batch(rows)
    [insert] = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("INSERT")]
    assert insert.count("$") == 180
    stored = {event.pk: event for event in WebhookEvent.objects.all()}
    assert sorted(stored) == sorted(ids)
    for n, pk in enumerate(ids):
        event = stored[pk]
        assert (event.dedupe_key, event.event, event.raw_body, event.conversation_id) == (
            f"large:{n}",
            f"event-{n}",
            f'{{"n": {n}}}',
            f"conversation-{n}",
        )
        assert event.headers == {"User-Agent": f"agent-{n}"}
        assert event.received_at == now - dt.timedelta(seconds=n)
        assert event.next_attempt_at == now + dt.timedelta(seconds=n)
