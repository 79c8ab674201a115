"""The production process types end to end, on loopback (B2, B8): gunicorn + Celery workers (inbound, outbound)
+ beat, against PostgreSQL and Redis, with the sandbox as its own process playing TikTok and a bot builder
receiving pushed events.

sandbox → POST /webhooks/tiktok/ (gunicorn) → journal → worker-inbound → bot event → worker-outbound → bot
callback → the bot answers through POST /api/v1/clients/{id}/messages/ → sandbox → echo webhook → journal.

Run with `make test-stack` (marker `stack`; left out of `make test`).
"""

import time

import pytest
import requests

from channels_tiktok.sandbox.client import SandboxControl
from scripts.bot_receiver import BotReceiver
from scripts.seed import seed_connected_account
from scripts.stack import launch

pytestmark = pytest.mark.stack

CALLBACK_SECRET = "smoke-callback-secret"
ACCOUNT = "sbx-acct-mx-001"
USER = "sbx-user-lucia"


@pytest.fixture(scope="module")
def stack():
    stack = launch("stack_smoke")
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def bot():
    receiver = BotReceiver(secret=CALLBACK_SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def connected(stack, bot):
    control = SandboxControl(stack.sandbox_url)
    token = control.issue_token(account=ACCOUNT)
    seeded = seed_connected_account(
        stack, token=token, project="Smoke", callback_url=bot.url, callback_secret=CALLBACK_SECRET
    )
    return control, seeded


def api(stack, seeded, method, path, **kwargs):
    headers = {"Authorization": f"Api-Key {seeded['api_key']}"}
    return requests.request(method, f"{stack.base_url}{path}", headers=headers, timeout=30, **kwargs)


def wait_until(check, *, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def test_health_reports_every_dependency(stack):
    response = requests.get(f"{stack.base_url}/healthz", timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


def test_message_round_trip_through_the_production_stack(stack, bot, connected):
    control, seeded = connected

    written = control.user_writes(account=ACCOUNT, user=USER, text="Hola! Is the shop open today?")
    assert written["delivery"]["http_status"] == 200

    # worker-inbound turns the journal row into a bot event; worker-outbound pushes it, signed.
    pushes = bot.wait_for(lambda pushes: any(p.answered == 200 for p in pushes), timeout=60)
    push = next(p for p in pushes if p.answered == 200)
    event = push.event
    assert push.signature_valid
    assert push.headers["X-Event-Id"] == event["id"]
    assert event["type"] == "client.message"
    assert event["text"] == "Hola! Is the shop open today?"
    assert event["account"]["business_id"] == seeded["business_id"]
    assert event["client"]["variables"]["tiktok_conversation_id"] == written["conversation_id"]
    client_id = event["client"]["id"]

    # The bot answers through the API; the send goes through the rate limiter to the sandbox.
    response = api(stack, seeded, "POST", f"/api/v1/clients/{client_id}/messages/", json={"text": "Yes, until 9pm."})
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["status"] == "sent"
    assert sent["direction"] == "out"
    assert sent["external_id"]

    received = control.sent_messages(account=ACCOUNT, user=USER)
    assert [(m["message_id"], m["body"]) for m in received] == [(sent["external_id"], {"body": "Yes, until 9pm."})]

    # The echo (im_send_msg) comes back through the webhook and is matched, not logged a second time.
    def log():
        messages = api(stack, seeded, "GET", f"/api/v1/clients/{client_id}/messages/").json()["results"]
        return messages if len(control.deliveries(event="im_send_msg")) == 1 else None

    messages = wait_until(log, timeout=30)
    assert [(m["direction"], m["text"], m["status"]) for m in messages] == [
        ("out", "Yes, until 9pm.", "sent"),
        ("in", "Hola! Is the shop open today?", "received"),
    ]
    window = api(stack, seeded, "GET", f"/api/v1/clients/{client_id}/").json()["window"]
    assert window["open"] is True
    assert window["messages_left"] == 9


def test_every_journal_row_is_processed_exactly_once(stack, connected):
    control, _seeded = connected
    for number in range(5):
        control.user_writes(account=ACCOUNT, user=USER, text=f"burst {number}")
    # TikTok delivers at least once: deliver the last one three more times.
    last = control.deliveries(event="im_receive_msg")[-1]
    control.redeliver(delivery_id=last["delivery_id"], times=3)

    journal = wait_until(
        lambda: (rows := stack.python(JOURNAL)) and all(r[1] != "pending" for r in rows) and rows,
        timeout=60,
    )
    receipts = [row for row in journal if row[0] == "im_receive_msg"]
    assert len(receipts) == 6  # the first message of the round trip test and these five
    assert {row[1] for row in receipts} == {"processed"}
    assert {row[2] for row in receipts} == {1}
    assert stack.python(INBOUND_TEXTS).count("burst 4") == 1


JOURNAL = """
from channels_tiktok.models import WebhookEvent
result = list(WebhookEvent.objects.order_by("id").values_list("event", "status", "attempts"))
"""

INBOUND_TEXTS = """
from clients.models import Message
result = list(Message.objects.filter(direction="in").values_list("text", flat=True))
"""
