"""Several workers given the same bot event at once (a sweeper and the original task, two sweepers): the claim
lets exactly one of them POST it."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from clients import delivery
from clients.models import BotEvent
from tests.factories import BotEventFactory, ProjectFactory
from tests.sandbox import WebhookReceiver

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_post_an_event_once():
    receiver = WebhookReceiver()
    try:
        project = ProjectFactory(callback_url=receiver.url)
        events = [BotEventFactory(project=project, next_attempt_at=timezone.now()) for _ in range(20)]
        barrier = threading.Barrier(6)

        def worker(_n):
            try:
                barrier.wait()
                for event in events:
                    delivery.deliver(event_id=event.pk)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(worker, range(6)))
        posted = [request["headers"]["x-event-id"] for request in receiver.requests]
        assert sorted(posted) == sorted(str(event.uuid) for event in events)
        assert set(BotEvent.objects.values_list("status", "attempts")) == {(BotEvent.DeliveryStatus.DELIVERED, 1)}
    finally:
        receiver.stop()


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_a_push_writes_its_bookkeeping_without_waiting_for_the_disk():
    """The claim, the attempt and the outcome are written in transactions with synchronous_commit off; the
    event itself (written when it was created) is not touched by that."""
    from django.test.utils import CaptureQueriesContext

    receiver = WebhookReceiver()
    try:
        event = BotEventFactory(project=ProjectFactory(callback_url=receiver.url))
        with CaptureQueriesContext(connection) as queries:
            delivery.deliver(event_id=event.pk)
        statements = [query["sql"] for query in queries.captured_queries]
        writes = [n for n, sql in enumerate(statements) if sql.startswith(("UPDATE", "INSERT"))]
        assert len(writes) == 3  # the claim, the attempt, the outcome
        for n in writes:
            set_at = max(m for m, sql in enumerate(statements[:n]) if sql.startswith("SET LOCAL synchronous_commit"))
            assert not any(sql.startswith(("COMMIT", "RELEASE")) for sql in statements[set_at:n])
        assert BotEvent.objects.get(pk=event.pk).status == BotEvent.DeliveryStatus.DELIVERED
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"  # SET LOCAL ended with its transaction
    finally:
        receiver.stop()
