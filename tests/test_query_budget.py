"""Queries per processed webhook row (Performance, item 3): a known client's direct message costs at most 8
queries, any other row at most 12, processed alone (`process_event`) or within a batch of 25 (`drain`), on
PostgreSQL and on SQLite. Savepoints count.

A worker's transaction starts and ends with BEGIN and COMMIT, which Django does not count on PostgreSQL. Within a
test's transaction that transaction is a SAVEPOINT and its RELEASE: those two statements, first and last, stand
for BEGIN and COMMIT and are left out of the count; any other savepoint counts."""

import time

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal, processing
from clients.models import BotEvent, Client, Message
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

API = "https://business-api.tiktok.com/open_api/v1.3/"
KNOWN_CLIENT_DM = 8
ANY_ROW = 12
# Rows over ANY_ROW, as measured (a new client's row, alone): none.
OVER_BUDGET: dict[str, int] = {}
TYPES = [
    "im_receive_msg_text",
    "im_receive_msg_image",
    "im_receive_msg_video",
    "im_receive_msg_share_post",
    "im_receive_msg_button_tap",
    "im_receive_msg_sticker",
    "im_receive_msg_emoji",
    "im_receive_msg_reaction",
    "im_receive_msg_eu",
    "im_referral_msg",
    "im_receive_high_intent_comment",
    "im_mark_read_msg",
    "im_send_msg_api",
    "im_send_msg_app",
    "comment_update_insert",
    "comment_update_delete",
    "comment_update_hidden",
    "unknown_event",
]
# Rows journaled as ignored: a read receipt of a conversation never opened, an event TikTok added that we ignore.
IGNORED = {"im_mark_read_msg": WebhookEvent.Status.IGNORED, "unknown_event": WebhookEvent.Status.IGNORED}


@pytest.fixture
def tiktok():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            API + constants.PATH_MEDIA_DOWNLOAD,
            json={"code": 0, "message": "OK", "data": {"download_url": "https://media.tiktok.example/img/a.jpg"}},
        )
        mock.get(API + constants.PATH_COMMENT_LIST, json=comment_list())
        yield mock


def comment_list() -> dict:
    comment = {
        "comment_id": int(wc.COMMENT_ID),
        "video_id": int(wc.VIDEO_ID),
        "user_id": wc.USER_ID,
        "unique_identifier": wc.USER_ID,
        "username": "maria.lopez",
        "display_name": "Maria Lopez",
        "text": "How much is it?",
        "create_time": 1732500000,
        "status": "PUBLIC",
        "owner": False,
    }
    return {"code": 0, "message": "OK", "request_id": "req-1", "data": {"comments": [comment], "has_more": False}}


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """Journal a delivery as the receiver does, without running the task it queues; returns the row's id."""

    def _record(body: bytes) -> int:
        with django_capture_on_commit_callbacks():
            event_id, created = journal.record_delivery(body=body, headers={})
        assert created
        return event_id

    return _record


def counted(captured: list[dict]) -> list[str]:
    """The statements the worker's transactions cost: without the SAVEPOINT and RELEASE of each outermost block
    (its BEGIN and COMMIT in production); every savepoint nested in it counts."""
    sql, depth = [], 0
    for query in captured:
        statement = query["sql"]
        if statement.startswith("SAVEPOINT"):
            depth += 1
            if depth == 1:
                continue
        elif statement.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            depth -= 1
            if depth == 0:
                continue
        sql.append(statement)
    return sql


def text_from(user: str, n: int) -> bytes:
    """The user's n-th text message, a second after the one before: each moves the client's last message time."""
    return wc.with_content(
        "im_receive_msg_text",
        message_id=str(7440000000000300000 + n),
        unique_identifier=user,
        conversation_id=f"0:1:{user}:conv",
        text={"body": f"message {n}"},
        timestamp=int(time.time() * 1000) - 100_000 + n * 1000,
    )


def queries_of_one(event_id: int, status: str = WebhookEvent.Status.PROCESSED) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        row = processing.process_event(event_id=event_id)
    assert row is not None
    assert row.status == status, row.error
    assert row == WebhookEvent.objects.get(pk=event_id)
    assert (row.status, row.attempts) == WebhookEvent.objects.values_list("status", "attempts").get(pk=event_id)
    return counted(queries.captured_queries)


def test_a_known_clients_text_message_alone(record):
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    processing.process_event(event_id=record(text_from(wc.USER_ID, 0)))  # the client is now known
    sql = queries_of_one(record(text_from(wc.USER_ID, 1)))
    assert len(sql) <= KNOWN_CLIENT_DM, "\n".join(sql)


@pytest.mark.parametrize("name", TYPES)
def test_every_type_alone(name, tiktok, record):
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    status = IGNORED.get(name, WebhookEvent.Status.PROCESSED)
    sql = queries_of_one(record(wc.body_of(name)), status)  # a new client (where there is one)
    assert len(sql) <= OVER_BUDGET.get(name, ANY_ROW), "\n".join(sql)


def test_known_clients_text_messages_within_a_batch_of_25(record):
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    users = [f"user-{n}" for n in range(5)]
    for n, user in enumerate(users):
        processing.process_event(event_id=record(text_from(user, n)))  # each client is now known
    ids = [record(text_from(users[n % 5], n)) for n in range(5, 30)]
    with CaptureQueriesContext(connection) as queries:
        processing.drain(ids[0])
    assert set(WebhookEvent.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"processed"}
    sql = counted(queries.captured_queries)
    assert len(sql) <= KNOWN_CLIENT_DM * len(ids), "\n".join(sql)


@pytest.mark.parametrize(
    "name",
    [
        "im_receive_msg_share_post",
        "im_receive_msg_sticker",
        "im_receive_msg_emoji",
        "im_receive_msg_reaction",
        "im_referral_msg",
        "im_send_msg_api",
        "im_send_msg_app",
    ],
)
def test_a_type_within_a_batch_of_25(name, record):
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    ids = [record(wc.with_content(name, message_id=str(7440000000000400000 + n))) for n in range(25)]
    with CaptureQueriesContext(connection) as queries:
        processing.drain(ids[0])
    assert WebhookEvent.objects.filter(pk__in=ids, status="processed").count() == len(ids)
    sql = counted(queries.captured_queries)
    assert len(sql) <= ANY_ROW * len(ids), "\n".join(sql)
    print(name, len(sql) / len(ids))  # noqa: T201


def test_a_row_alone_that_fails_is_rolled_back_and_journaled_in_a_transaction_of_its_own(record):
    """Without a savepoint of its own, a failing row's effects go with its transaction; its failure is written
    after, once, and the row is retried later."""
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    processing.process_event(event_id=record(text_from("first-user", 0)))
    # Another user in the first user's conversation: the conversation id is taken (unique per account).
    body = wc.with_content(
        "im_receive_msg_text",
        message_id="7440000000000499999",
        unique_identifier="second-user",
        conversation_id="0:1:first-user:conv",
        text={"body": "hello"},
    )
    row = processing.process_event(event_id=record(body))
    assert row.status == WebhookEvent.Status.FAILED
    assert "IntegrityError" in row.error
    assert row.next_attempt_at is not None
    stored = WebhookEvent.objects.get(pk=row.pk)
    assert (stored.status, stored.attempts, stored.error) == (row.status, 1, row.error)
    assert not Client.objects.filter(external_id="second-user").exists()
    assert Message.objects.count() == BotEvent.objects.count() == 1
