"""The journal's INSERT on PostgreSQL (server-side binding, on the thread's own Django connection): Django's
execute wrappers see it and can fail it, as any other statement."""

import os

import pytest
from django.db import OperationalError, connection

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
    # Without the wrapper the same delivery goes through.
    event_id, created = journal.record_delivery(body=body(1), headers={})
    assert created
    assert WebhookEvent.objects.get().pk == event_id
