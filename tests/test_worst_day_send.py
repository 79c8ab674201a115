"""Sends during outages end in a state the bot can act on: a clear code, never a bare 500, and the window's slot
used only by what may have reached TikTok."""

import json
import os
import threading
import time

import psycopg
import pytest
import responses
from django.db import connection

from channels_tiktok import constants
from channels_tiktok.messaging import images, send
from channels_tiktok.messaging.outbound import BusyError
from channels_tiktok.models import Conversation
from clients.models import Message
from tests import webhook_cases as wc
from tests.factories import ProjectFactory
from tests.image_server import PNG
from tests.outbound_fixtures import *  # noqa: F403
from tests.outbound_fixtures import add_send, envelope, tiktok_url

pytestmark = pytest.mark.django_db

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
NOBODY_LISTENS = "redis://127.0.0.1:1/0"  # port 1: connection refused at once


def url(client) -> str:
    return f"/api/v1/clients/{client.pk}/messages/"


def test_rate_limiter_redis_down_answers_503_and_keeps_the_window(api, conversation, tiktok, settings):
    settings.REDIS_URL = NOBODY_LISTENS
    add_send(tiktok, message_id="7001")
    answers = [api.post(url(conversation.client), {"text": f"hi {n}"}, format="json") for n in range(3)]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(503, "rate_limiter_unavailable")] * 3
    assert len(tiktok.calls) == 0
    assert Conversation.objects.get(pk=conversation.pk).window_sent == 0
    rows = Message.objects.filter(client=conversation.client)
    assert sorted(rows.values_list("status", "error_code")) == [("failed", "rate_limiter_unavailable")] * 3

    settings.REDIS_URL = ""  # Redis is back (the in-process limiter stands in for it)
    sent = api.post(url(conversation.client), {"text": "again"}, format="json")
    assert sent.status_code == 201
    assert Conversation.objects.get(pk=conversation.pk).window_sent == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_api_calls_right_after_postgresql_drops_every_connection_are_answered(client):
    # A pool of its own: threads of earlier tests in this process (live servers, concurrency tests) may still hold
    # connections of the process's pool, and this test is about the pool's checks, not its size.
    connection.close_pool()
    project = ProjectFactory()
    from clients.api_keys import create_api_key

    _key, raw = create_api_key(project=project, name="bot")
    headers = {"authorization": f"Api-Key {raw}"}
    assert client.get("/api/v1/clients/", headers=headers).status_code == 200
    # What the server does after each request (the test client skips it): hand the connection back to the pool.
    connection.close()
    # What a restart does to the pool's idle connections: their backends are gone.
    dsn = connection.get_connection_params()
    dbname = connection.settings_dict["NAME"]
    with psycopg.connect(
        host=dsn.get("host") or "127.0.0.1",
        port=dsn.get("port") or 5432,
        user=dsn.get("user"),
        dbname=dbname,
        autocommit=True,
    ) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [dbname],
        )
    assert client.get("/api/v1/clients/", headers=headers).status_code == 200


@pytest.fixture
def one_fetch_per_project(settings):
    settings.IMAGE_FETCH_CONCURRENCY_PER_PROJECT = 1
    settings.IMAGE_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.mark.usefixtures("one_fetch_per_project")
def test_a_tenants_slow_image_holds_one_fetch_slot_not_every_thread(image_server):
    image_server.routes["/slow.png"] = ("drip", 0.05, 40)  # 2 s for the whole image
    image_server.routes["/fast.png"] = ("body", PNG)
    slow = threading.Thread(
        target=lambda: send.load_image(send.ImageSource(url=image_server.url("/slow.png")), project_id=1)
    )
    slow.start()
    try:
        deadline = time.monotonic() + 2
        while not image_server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(BusyError) as busy:
            send.load_image(send.ImageSource(url=image_server.url("/fast.png")), project_id=1)
        assert busy.value.code == "image_fetch_busy"
        # Another tenant is not held up by the first one's slow host.
        assert send.load_image(send.ImageSource(url=image_server.url("/fast.png")), project_id=2).format == "png"
        assert time.monotonic() - started < 1
    finally:
        slow.join()
    # The slot is given back once the slow fetch ends.
    assert send.load_image(send.ImageSource(url=image_server.url("/fast.png")), project_id=1).format == "png"


@pytest.mark.usefixtures("one_fetch_per_project")
def test_validate_and_send_answer_429_image_fetch_busy_with_retry_after(api, conversation, tiktok, image_server):
    image_server.routes["/a.png"] = ("body", PNG)
    body = {"image": {"url": image_server.url("/a.png")}}
    project_id = conversation.client.channel.project_id
    with images.fetch_slot(project_id):  # the project's one download is running
        validated = api.post("/api/v1/messages/validate/", {**body, "account": conversation.account.pk}, format="json")
        sent = api.post(url(conversation.client), body, format="json")
    for response in (validated, sent):
        assert (response.status_code, response.json()["code"]) == (429, "image_fetch_busy")
        assert response["Retry-After"] == "1"
    assert len(tiktok.calls) == 0
    assert Conversation.objects.get(pk=conversation.pk).window_sent == 0


@pytest.mark.parametrize("route", [("drip", 0.2, 40), ("drip_headers", 0.2)], ids=["body", "headers"])
def test_a_tiktok_call_dripping_its_answer_ends_at_the_total_timeout(image_server, route):
    from channels_tiktok.tiktok.client import TikTokClient, TikTokError

    image_server.routes["/open_api/" + constants.PATH_BUSINESS_GET] = route
    client = TikTokClient("token", base_url=image_server.url("/open_api/"), timeout=1.0)
    started = time.monotonic()
    with pytest.raises(TikTokError) as failed:
        client.get_profile(business_id="biz")
    assert time.monotonic() - started < 2.0
    assert failed.value.sent is True  # the request went out: a send would not be repeated


def _database_refuses_writes(on: bool) -> None:
    """What a database failing right after TikTok accepted the send looks like to our next write (SQLite)."""
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")


def _echo_of(conversation, *, message_id: str, text: str) -> bytes:
    envelope = wc.load("im_send_msg_api")
    content = json.loads(envelope["content"])
    content.update(
        conversation_id=conversation.conversation_id,
        message_id=message_id,
        timestamp=int(time.time() * 1000),
        text={"body": text},
    )
    envelope.update(user_openid=conversation.account.business_id, content=json.dumps(content))
    return json.dumps(envelope).encode()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PRAGMA query_only is SQLite's")
def test_database_failing_after_tiktok_accepted_answers_502_and_the_echo_records_the_send(
    api, conversation, tiktok, client, django_capture_on_commit_callbacks
):
    def accept_then_fail(request):
        _database_refuses_writes(True)
        return 200, {}, json.dumps(envelope({"message": {"message_id": "7009"}}))

    tiktok.add_callback(responses.POST, tiktok_url(constants.PATH_MESSAGE_SEND), callback=accept_then_fail)
    try:
        response = api.post(url(conversation.client), {"text": "Order shipped"}, format="json")
    finally:
        _database_refuses_writes(False)
    assert (response.status_code, response.json()["code"]) == (502, "tiktok_unavailable")
    row = Message.objects.get(client=conversation.client)
    assert (row.status, row.external_id) == ("queued", None)
    assert Conversation.objects.get(pk=conversation.pk).window_sent == 1  # it did reach TikTok

    with django_capture_on_commit_callbacks(execute=True):
        echo = wc.post(client, _echo_of(conversation, message_id="7009", text="Order shipped"))
    assert echo.status_code == 200
    row.refresh_from_db()
    assert (row.status, row.external_id) == ("sent", "7009")
    assert not Message.objects.filter(client=conversation.client).exclude(pk=row.pk).exists()


def test_an_echo_never_claims_a_queued_row_with_other_text(conversation, client, django_capture_on_commit_callbacks):
    queued = Message.objects.create(
        channel_id=conversation.account.channel_id,
        client=conversation.client,
        direction=Message.Direction.OUTBOUND,
        source=Message.Source.BOT,
        status=Message.Status.QUEUED,
        kind=Message.Kind.TEXT,
        text="something else",
    )
    with django_capture_on_commit_callbacks(execute=True):
        wc.post(client, _echo_of(conversation, message_id="7010", text="Order shipped"))
    queued.refresh_from_db()
    assert (queued.status, queued.external_id) == ("queued", None)
