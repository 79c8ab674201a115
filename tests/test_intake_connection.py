"""The webhook journal's own connection (channels_tiktok/webhooks/intake/connection.py), on PostgreSQL: request
threads share one session per process, Django still sees its statements, and a session the server dropped is replaced
at the next write without losing a delivery TikTok sends again."""

import os
import threading

import pytest
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext

from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal
from tests import webhook_cases as wc

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL (CI runs it)"
    ),
]


def body(number: int) -> bytes:
    return wc.with_content("im_receive_msg_text", message_id=f"74390000000000{number:05d}")


def journal_sessions() -> set[int]:
    """Backend pids of the sessions whose last statement was the journal's INSERT."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE %s",
            ['INSERT INTO "channels_tiktok_webhookevent"%'],
        )
        return {pid for (pid,) in cursor.fetchall()}


def record_in_thread(number: int) -> int:
    result = {}

    def run():
        try:
            result["id"], _created = journal.record_delivery(body=body(number), headers={})
        finally:
            connections.close_all()  # the thread's own (the in-process task's), as after a request

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return result["id"]


def test_request_threads_share_one_session_and_django_logs_its_statements():
    seen = []
    for number in range(3):
        record_in_thread(number)
        seen.append(journal_sessions())
    assert len(seen[0]) == 1
    assert seen == [seen[0]] * 3  # three request threads, one journal session
    with CaptureQueriesContext(connection) as captured:
        journal.record_delivery(body=body(3), headers={})
    assert WebhookEvent.objects.count() == 4
    assert journal_sessions() == seen[0]
    # Written on the journal's session, yet logged like any query of this thread's connection (then the
    # in-process task's queries follow).
    assert captured[0]["sql"].startswith('INSERT INTO "channels_tiktok_webhookevent"')


def test_a_session_the_server_dropped_is_replaced_at_the_next_write():
    first, created = journal.record_delivery(body=body(1), headers={})
    assert created
    [session] = journal_sessions()
    with connection.cursor() as cursor:  # a restart, as far as the journal's session is concerned
        cursor.execute("SELECT pg_terminate_backend(%s)", [session])
    with pytest.raises(OperationalError):  # answered 500: TikTok sends it again
        journal.record_delivery(body=body(2), headers={})
    again, created = journal.record_delivery(body=body(2), headers={})
    assert created
    assert again > first
    assert list(WebhookEvent.objects.order_by("id").values_list("dedupe_key", flat=True)) == [
        f"im_receive_msg:74390000000000{number:05d}" for number in (1, 2)
    ]


def test_an_execute_wrapper_of_the_thread_sees_the_journal_insert_and_can_fail_it():
    seen = []

    def refuse(execute, sql, params, many, context):
        seen.append(sql)
        raise OperationalError("refused by the wrapper")

    with connection.execute_wrapper(refuse), pytest.raises(OperationalError):
        journal.record_delivery(body=body(1), headers={})
    assert len(seen) == 1
    assert seen[0].startswith('INSERT INTO "channels_tiktok_webhookevent"')
    assert not WebhookEvent.objects.exists()
    # Without the wrapper the same delivery goes through on the kept cursor.
    event_id, created = journal.record_delivery(body=body(1), headers={})
    assert created
    assert WebhookEvent.objects.get().pk == event_id
