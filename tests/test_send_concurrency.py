"""R6 under concurrency: 50 parallel sends to one client through the real endpoint, each request in its own
thread and database connection, TikTok played by the sandbox over HTTP (which enforces the window on its own)."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from channels_tiktok import constants
from clients.models import Message
from tests.test_send_e2e import ACCOUNT, USER, world  # noqa: F401 - fixture

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")

pytestmark = [
    pytest.mark.postgres,
    # The in-memory SQLite test database locks whole tables under concurrent writers; CI runs this on PostgreSQL.
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL); CI runs it"),
    pytest.mark.django_db(transaction=True),
]


def burst(setup, n: int, *, queue_every: int = 0) -> list[requests.Response]:
    bot, client_id = setup["bot"], setup["client"]["id"]

    def one(i: int) -> requests.Response:
        body = {"text": f"message {i}"}
        if queue_every and i % queue_every == 0:
            body["when_closed"] = "queue"
        return requests.post(
            f"{bot.base_url}/api/v1/clients/{client_id}/messages/",
            json=body,
            headers=dict(bot.session.headers),
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_fifty_parallel_sends_exactly_ten_go_out_and_a_new_message_opens_ten_more(world):  # noqa: F811
    control = world["sandbox"].control
    responses = burst(world, 50)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [409] * 40
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"quota_exhausted"}
    assert len(control.sent_messages(account=ACCOUNT, user=USER)) == 10
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.SENT).count() == 10
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exclude(status="sent").exists()

    # The client writes again: a fresh window of 10.
    control.user_writes(account=ACCOUNT, user=USER, text="¿Y los postres?")
    responses = burst(world, 50)
    assert sorted(r.status_code for r in responses) == [201] * 10 + [409] * 40
    assert len(control.sent_messages(account=ACCOUNT, user=USER)) == 20
    window = world["bot"].get(f"/api/v1/clients/{world['client']['id']}/").json()["window"]
    assert window["messages_left"] == 0
    assert window["open"] is False
    assert constants.WINDOW_MAX_MESSAGES == 10


def test_queued_sends_mixed_in_never_pass_the_ten(world):  # noqa: F811
    from channels_tiktok.models import QueuedSend
    from tests.test_send_e2e import wait_for

    control = world["sandbox"].control
    responses = burst(world, 50, queue_every=2)  # 25 may be queued, 25 are refused when the window is full
    sent = [r for r in responses if r.status_code == 201]
    queued = [r for r in responses if r.status_code == 202]
    assert len(sent) == 10
    assert len(sent) + len(queued) + sum(r.status_code == 409 for r in responses) == 50
    assert {r.json()["status"] for r in queued} == {"queued_for_next_window"}
    assert len(control.sent_messages(account=ACCOUNT, user=USER)) == 10
    assert QueuedSend.objects.filter(status="queued_for_next_window").count() == len(queued)

    # The client writes: the queued ones go out first, at most ten, the rest wait for the window after.
    control.user_writes(account=ACCOUNT, user=USER, text="hola")
    wait_for(lambda: len(control.sent_messages(account=ACCOUNT, user=USER)) == 10 + min(len(queued), 10))
    assert QueuedSend.objects.filter(status="queued_for_next_window").count() == max(len(queued) - 10, 0)
    window = world["bot"].get(f"/api/v1/clients/{world['client']['id']}/window/").json()
    assert window["messages_left"] == max(10 - len(queued), 0)
