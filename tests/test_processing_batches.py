"""Processing in batches (B10): a worker task drains every pending journal row, several rows per transaction,
and a committed row queues a task only when its wake-up lane has none on its way. Exactly once still holds."""

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import Conversation, WebhookEvent
from channels_tiktok.webhooks import journal, processing
from channels_tiktok.webhooks.intake import lanes
from clients.models import BotEvent, Client, Message
from tests import webhook_cases as wc
from tests.factories import BotEventFactory, TikTokAccountFactory

pytestmark = pytest.mark.django_db

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
API = "https://business-api.tiktok.com/open_api/v1.3/"


@pytest.fixture
def account():
    return TikTokAccountFactory(business_id=wc.BUSINESS_ID)


def text_body(n: int, *, users: int = 5, conversation: str | None = None) -> bytes:
    return wc.with_content(
        "im_receive_msg_text",
        message_id=str(7440000000000200000 + n),
        unique_identifier=f"user-{n % users}",
        conversation_id=conversation or f"0:1:{n % users}:conv",
        text={"body": f"message {n}"},
        timestamp=int(time.time() * 1000) - 1000 + n,
    )


def record(body: bytes) -> WebhookEvent:
    """Journal a delivery as the receiver does, without running what it queues; returns the stored row."""
    event_id, created = journal.record_delivery(body=body, headers={})
    assert created
    return WebhookEvent.objects.get(pk=event_id)


def test_one_task_processes_every_pending_row_in_few_queries(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the rows' tasks are never run
        rows = [record(text_body(n)) for n in range(60)]
    with CaptureQueriesContext(connection) as queries:
        processing.drain(rows[0].pk)  # the task of the first row
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {(WebhookEvent.Status.PROCESSED, 1)}
    assert Message.objects.count() == BotEvent.objects.count() == 60
    assert Client.objects.count() == Conversation.objects.count() == 5
    # A row costs its handler's writes; the journal's own reads and writes are shared by a batch.
    assert len(queries) < 60 * 11, len(queries)
    # Within a client the bot hears the messages in the order they arrived.
    for client in Client.objects.all():
        texts = list(BotEvent.objects.filter(client=client).order_by("id").values_list("body__text", flat=True))
        assert texts == sorted(texts, key=lambda text: int(text.split()[1]))


def test_the_bot_event_body_carries_the_variables_just_written(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        first = record(text_body(0, users=1, conversation="0:1:first:conv"))
        record(text_body(1, users=1, conversation="0:1:second:conv"))
    processing.drain(first.pk)
    bodies = list(BotEvent.objects.order_by("id").values_list("body", flat=True))
    assert [b["client"]["variables"][constants.VAR_CONVERSATION_ID] for b in bodies] == [
        "0:1:first:conv",
        "0:1:second:conv",
    ]
    client = Client.objects.get()
    assert dict(client.variables.values_list("key", "value"))[constants.VAR_CONVERSATION_ID] == "0:1:second:conv"


def test_a_row_whose_write_fails_does_not_fail_the_rest_of_its_batch(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        rows = [record(text_body(n, users=3)) for n in range(6)]
        # Another user in a conversation id that user-0 already holds: the conversation's unique key refuses it.
        clash = record(
            wc.with_content(
                "im_receive_msg_text",
                message_id="7440000000000299999",
                unique_identifier="someone-else",
                conversation_id="0:1:0:conv",
            )
        )
    processing.drain(rows[0].pk)
    clash.refresh_from_db()
    assert clash.status == WebhookEvent.Status.FAILED
    assert clash.next_attempt_at is not None  # retried later by the sweeper
    assert "IntegrityError" in clash.error
    processed = WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED)
    assert sorted(processed.values_list("pk", flat=True)) == [row.pk for row in rows]
    assert BotEvent.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_rows_that_need_tiktok_are_read_outside_the_batch_transaction(account, tasks_held):
    seen = []

    def answer(request):
        seen.append(connection.in_atomic_block)
        return 200, {}, json.dumps({"code": 0, "data": {"download_url": "https://media.example/img.jpg"}})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as tiktok:
        tiktok.add_callback(responses.POST, API + constants.PATH_MEDIA_DOWNLOAD, callback=answer)
        rows = [record(text_body(0)), record(wc.body_of("im_receive_msg_image")), record(text_body(1))]
        processing.drain(rows[0].pk)
    # The read for the message, then the background copy's fresh URLs: none inside a transaction.
    assert seen
    assert not any(seen)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    image = Message.objects.get(kind=Message.Kind.IMAGE)
    assert image.payload["image"]["url"] == "https://media.example/img.jpg"


def test_a_conversations_rows_keep_their_order_when_an_earlier_one_needs_tiktok(account, tasks_held):
    """An image (its download URL read from TikTok) and the text the user wrote after it, in one batch: the text
    waits for the image, so the bot hears of them in the order they were written."""
    image = wc.body_of("im_receive_msg_image")
    text = wc.with_content("im_receive_msg_text", message_id="7440000000000000099", timestamp=1764000000999)
    download = {"code": 0, "data": {"download_url": "https://media.example/img.jpg"}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as tiktok:
        tiktok.add(responses.POST, API + constants.PATH_MEDIA_DOWNLOAD, json=download)
        rows = [record(image), record(text)]
        processing.drain(rows[0].pk)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    events = BotEvent.objects.order_by("id")
    assert [event.body["data"]["type"] for event in events] == ["image", "text"]
    assert Client.objects.count() == Conversation.objects.count() == 1


def hold_every_lane() -> None:
    for lane in range(lanes.LANES):
        assert lanes.claim(lane)


def test_a_row_recorded_while_its_lane_is_held_is_taken_by_that_lanes_task(account, django_capture_on_commit_callbacks):
    lanes.release_all()
    hold_every_lane()  # a task of every lane is on its way
    with django_capture_on_commit_callbacks(execute=True):
        first = record(text_body(0))
        later = record(text_body(1))
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PENDING}  # no task ran
    processing.drain(first.pk)  # the task on its way takes both rows
    later.refresh_from_db()
    assert later.status == WebhookEvent.Status.PROCESSED
    assert lanes.claim(first.pk)  # and leaves its lane free for the next delivery


def test_a_delivery_queues_and_drains_when_its_lane_is_free(account, client, django_capture_on_commit_callbacks):
    lanes.release_all()
    with django_capture_on_commit_callbacks(execute=True):
        assert wc.post(client, text_body(0)).status_code == 200
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.PROCESSED  # the suite runs tasks in-process, after the commit
    assert lanes.claim(row.pk)  # released by the task


def test_lanes_in_redis(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/3"
    lanes._redis.cache_clear()
    try:
        lanes.release_all()
        assert lanes.claim(5)
        assert not lanes.claim(5)
        assert not lanes.claim(5 + lanes.LANES)  # the same lane
        assert lanes.claim(6)
        assert 0 < lanes._redis().ttl(lanes.key(5)) <= lanes.TTL_SECONDS
        lanes.release(5)
        assert lanes.claim(5)
        lanes.release_all()
        assert lanes.claim(6)
        # Several lanes in one call: only those not already held are claimed, each with its expiry.
        assert lanes.claim_many([4, 5, 6, 7]) == [4, 5, 7]
        assert lanes.claim_many([4, 5, 6, 7]) == []
        assert all(0 < lanes._redis().ttl(lanes.key(n)) <= lanes.TTL_SECONDS for n in (4, 5, 7))
        lanes._redis().script_flush()  # a restarted server has forgotten the script: it is sent again
        lanes.release(5)
        assert lanes.claim_many([5, 6]) == [5]
    finally:
        lanes.release_all()
        lanes._redis.cache_clear()


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it")
@pytest.mark.django_db(transaction=True)
def test_three_workers_draining_at_once_process_each_row_once(account, tasks_held):
    # A backlog: 300 pending rows, their tasks queued but not run.
    rows = [record(text_body(n, users=7)) for n in range(300)]
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).count() == 300
    barrier = threading.Barrier(3)

    def worker(first: WebhookEvent) -> int:
        try:
            barrier.wait()
            return processing.drain(first.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(worker, rows[:3]))
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {(WebhookEvent.Status.PROCESSED, 1)}
    assert Message.objects.count() == BotEvent.objects.count() == 300
    assert BotEvent.objects.values("dedupe_key").distinct().count() == 300


def test_a_bot_event_key_taken_before_the_first_attempt_is_never_emitted_twice(account):
    """The first attempt inserts its bot event without a savepoint; should the key exist after all, that attempt
    fails as a whole and the retry (not a first attempt any more) finds the event instead of writing another."""
    row = record(text_body(0))
    BotEventFactory(project=account.channel.project, dedupe_key=f"tiktok:{row.pk}:client.message:0")
    assert processing.process_event(event_id=row.pk).status == WebhookEvent.Status.FAILED
    assert Message.objects.count() == 0  # the failed attempt left nothing behind
    retried = processing.process_event(event_id=row.pk)
    assert (retried.status, retried.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert BotEvent.objects.count() == 1
    assert Message.objects.count() == 1


def comment_body(comment_id: int, *, video_id: int) -> bytes:
    return wc.with_content(
        "comment_update_insert", comment_id=comment_id, video_id=video_id, unique_identifier=f"author-{comment_id}"
    )


def test_the_comments_of_one_video_are_read_from_tiktok_together(account, django_capture_on_commit_callbacks):
    """A viral video: its new comments are asked for COMMENT_LIST_MAX_IDS at a time, not one call each."""
    asked: list[tuple[str, list[str]]] = []
    deleted = 7450000000000000007  # gone from TikTok before we read it

    def answer(request):
        ids = [str(i) for i in json.loads(request.params["comment_ids"])]
        asked.append((request.params["video_id"], ids))
        comments = [
            {"comment_id": int(i), "text": f"text of {i}", "unique_identifier": f"author-{i}", "username": f"u{i}"}
            for i in ids
            if i != str(deleted)
        ]
        return 200, {}, json.dumps({"code": 0, "data": {"comments": comments}})

    first, other = 7450000000000000000, 7460000000000000000
    with responses.RequestsMock() as tiktok:
        tiktok.add_callback(responses.GET, API + constants.PATH_COMMENT_LIST, callback=answer)
        with django_capture_on_commit_callbacks():
            rows = [record(comment_body(first + n, video_id=111)) for n in range(30)]
            rows.append(record(comment_body(other, video_id=222)))
        processing.drain(rows[0].pk)

    every_id = [*(str(first + n) for n in range(30)), str(other)]
    assert sorted(i for _video, ids in asked for i in ids) == sorted(every_id)  # each comment asked for once
    assert max(len(ids) for _video, ids in asked) <= constants.COMMENT_LIST_MAX_IDS
    assert len(asked) <= 5, asked  # the task's own row, then whole batches: not 31 calls
    assert {video for video, ids in asked if str(other) in ids} == {"222"}
    failed = WebhookEvent.objects.get(status=WebhookEvent.Status.FAILED)
    assert failed.comment_id == str(deleted)
    assert "not found" in failed.error
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 30
    texts = set(BotEvent.objects.values_list("body__text", flat=True))
    assert texts == {
        f"tiktok_client_new_comment 111: text of {first + n}" for n in range(30) if first + n != deleted
    } | {f"tiktok_client_new_comment 222: text of {other}"}


def test_a_failed_comment_read_fails_only_the_rows_of_that_call(account, django_capture_on_commit_callbacks):
    def answer(request):
        if request.params["video_id"] == "111":
            return 200, {}, json.dumps({"code": 50000, "message": "System error"})
        ids = json.loads(request.params["comment_ids"])
        comments = [{"comment_id": i, "text": "fine", "unique_identifier": f"author-{i}"} for i in ids]
        return 200, {}, json.dumps({"code": 0, "data": {"comments": comments}})

    with responses.RequestsMock() as tiktok:
        tiktok.add_callback(responses.GET, API + constants.PATH_COMMENT_LIST, callback=answer)
        with django_capture_on_commit_callbacks():
            rows = [record(comment_body(7470000000000000000 + n, video_id=111 if n % 2 else 222)) for n in range(6)]
        processing.drain(rows[0].pk)
    statuses = {row.pk: row.status for row in WebhookEvent.objects.all()}
    assert [statuses[row.pk] for row in rows] == [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.FAILED] * 3
    failed = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
    assert all("System error" in row.error and row.next_attempt_at is not None for row in failed)


def test_rows_a_worker_reads_from_tiktok_are_left_to_it_by_the_others(
    account, django_capture_on_commit_callbacks, time_machine
):
    """While one worker reads a batch's comments from TikTok (outside any lock), another worker's batch skips
    those rows instead of asking TikTok for them a second time; rows whose worker died come back later."""
    time_machine.move_to(timezone.now(), tick=False)
    asked: list[str] = []
    other_worker: list[int] = []

    def answer(request):
        ids = [str(i) for i in json.loads(request.params["comment_ids"])]
        asked.extend(ids)
        if len(asked) > 1 and not other_worker:  # the batch's read, after the task's own row
            other_worker.append(processing.process())  # another worker's batch, at this very moment
        comments = [{"comment_id": int(i), "text": "hi", "unique_identifier": f"author-{i}"} for i in ids]
        return 200, {}, json.dumps({"code": 0, "data": {"comments": comments}})

    with responses.RequestsMock() as tiktok:
        tiktok.add_callback(responses.GET, API + constants.PATH_COMMENT_LIST, callback=answer)
        with django_capture_on_commit_callbacks():
            rows = [record(comment_body(7480000000000000000 + n, video_id=111)) for n in range(10)]
        processing.drain(rows[0].pk)
        assert other_worker == [0]
        assert sorted(asked) == sorted(row.comment_id for row in rows)  # each comment asked for once
        assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 10

        # A worker died while reading: its claim runs out with the processing lease, then any batch takes the row.
        with django_capture_on_commit_callbacks():
            stranded = record(comment_body(7480000000000000099, video_id=111))
        WebhookEvent.objects.filter(pk=stranded.pk).update(fetching_until=timezone.now() + processing.PROCESSING_LEASE)
        assert processing.process() == 0
        time_machine.shift(processing.PROCESSING_LEASE.total_seconds() + 1)
        assert processing.process() == 1
    stranded.refresh_from_db()
    assert stranded.status == WebhookEvent.Status.PROCESSED
