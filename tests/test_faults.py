"""The fault suite (B2, B7, B8): the production process types on loopback, with their own PostgreSQL and Redis
servers so that a test can kill, stop and restart them, and the sandbox as its own process playing TikTok.

- a worker killed in the middle of a task: the event is processed exactly once after the restart;
- the broker down during intake: webhooks are still answered 200, and processed after recovery by the sweeper;
- the bot builder answering 500, then 200: the event is delivered once, both attempts recorded;
- the database restarted under load: no journal row is lost, every event is processed once;
- TikTok answering 5xx, timing out or dropping the connection: each send ends failed with a clear code, and
  is never sent twice;
- Redis killed during sends: 503 rate_limiter_unavailable, nothing sent, no window slot lost;
- PostgreSQL killed during a send TikTok accepted: 502 tiktok_unavailable, and TikTok's echo records it as sent;
- an image URL dripping a byte at a time while TikTok's webhooks keep coming: every webhook answered within 1 s.

Run with `make test-stack` (marker `stack`). Each test is bounded (the longest waits for the periodic sweeper).
"""

import itertools
import json
import signal
import threading
import time

import psycopg
import pytest
import requests

from benchmarks import payloads
from benchmarks.load import SignedRequest
from channels_tiktok.sandbox.client import SandboxControl
from scripts.bot_receiver import BotReceiver
from scripts.seed import seed_connected_account
from scripts.stack import SANDBOX_APP_ID, SANDBOX_APP_SECRET, launch

pytestmark = pytest.mark.stack

CALLBACK_SECRET = "faults-callback-secret"
ACCOUNT = "sbx-acct-mx-001"
# The journal's processing lease (1 minute) plus one period of beat's sweeper (1 minute), with a margin.
SWEEPER_WAIT = 180
USER_NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def stack():
    stack = launch(
        "stack_faults",
        own_redis=True,
        own_postgres=True,
        # The drip image server of the thread-starvation test listens on loopback.
        extra_env={"TIKTOK_HTTP_TIMEOUT_SECONDS": "2", "IMAGE_FETCH_ALLOWED_HOSTS": "127.0.0.1"},
    )
    yield stack
    stack.close()


@pytest.fixture(scope="module")
def bot():
    receiver = BotReceiver(secret=CALLBACK_SECRET).start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def control(stack):
    return SandboxControl(stack.sandbox_url)


@pytest.fixture(scope="module")
def seeded(stack, bot, control):
    token = control.issue_token(account=ACCOUNT)
    return seed_connected_account(
        stack, token=token, project="Faults", callback_url=bot.url, callback_secret=CALLBACK_SECRET
    )


@pytest.fixture
def user(control, request):
    """A fresh TikTok user of the sandbox for each test, so that no test waits behind another's events."""
    name = f"{request.node.name.removeprefix('test_')[:20].replace('_', '.')}.{next(USER_NUMBERS)}"
    return control.create_user(username=name, country="MX", is_follower=True)["unique_identifier"]


def wait_until(check, *, timeout, interval=0.5, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} not met after {timeout}s (last: {value!r})")
        time.sleep(interval)


JOURNAL_OF = """
from channels_tiktok.models import WebhookEvent
from clients.models import BotEvent, Message
rows = list(WebhookEvent.objects.filter(dedupe_key__in=KEYS).values_list("dedupe_key", "status", "attempts"))
texts = list(Message.objects.filter(direction="in", external_id__in=IDS).values_list("external_id", flat=True))
events = list(BotEvent.objects.filter(type="client.message", body__data__message_id__in=IDS).values_list(
    "body__data__message_id", flat=True))
result = {"rows": rows, "messages": texts, "bot_events": events}
"""


def journal_of(stack, message_ids: list[str]) -> dict:
    keys = [f"im_receive_msg:{message_id}" for message_id in message_ids]
    return stack.python(f"KEYS = {keys!r}\nIDS = {message_ids!r}\n" + JOURNAL_OF)


def all_processed(stack, message_ids: list[str]):
    state = journal_of(stack, message_ids)
    done = len(state["rows"]) == len(message_ids) and all(status == "processed" for _k, status, _a in state["rows"])
    return state if done else None


def client_of(stack, user: str) -> int:
    return stack.python(f"from clients.models import Client\nresult = Client.objects.get(external_id={user!r}).pk")


def api(stack, seeded, method, path, **kwargs):
    headers = {"Authorization": f"Api-Key {seeded['api_key']}"}
    return requests.request(method, f"{stack.base_url}{path}", headers=headers, timeout=30, **kwargs)


# ------------------------------------------------------------------------------------------ TikTok fails
SEND_PATH = "business/message/send/"


@pytest.mark.parametrize(
    ("fault", "acted"),
    [
        ({"mode": "http_error", "status": 503}, False),
        ({"mode": "http_error", "status": 500, "after": True}, True),
        ({"mode": "code", "code": 50000}, False),
        ({"mode": "delay", "delay": 4}, True),
        ({"mode": "drop"}, False),
        ({"mode": "drop", "after": True}, True),
    ],
    ids=["5xx", "5xx-after-acting", "system-error-code", "timeout", "dropped", "dropped-after-acting"],
)
def test_tiktok_failure_ends_a_send_in_a_clear_state_and_never_sends_twice(stack, seeded, control, user, fault, acted):
    written = control.user_writes(account=ACCOUNT, user=user, text="hello")
    wait_until(lambda: all_processed(stack, [str(written["message_id"])]), timeout=60, message="first message")
    client_id = client_of(stack, user)
    text = f"reply under {fault}"

    control.inject_failure(path=SEND_PATH, count=1, **fault)
    response = api(stack, seeded, "POST", f"/api/v1/clients/{client_id}/messages/", json={"text": text})

    assert response.status_code == 502, response.text
    assert response.json()["code"] == "tiktok_unavailable"
    logged = api(stack, seeded, "GET", f"/api/v1/clients/{client_id}/messages/").json()["results"][0]
    assert (logged["text"], logged["status"], logged["error_code"]) == (text, "failed", "tiktok_unavailable")
    # What TikTok received: once if the call reached it, never twice (a send is not retried once it may have).
    time.sleep(fault.get("delay", 0) + 1)
    received = [m for m in control.sent_messages(account=ACCOUNT, user=user) if m["body"] == {"body": text}]
    assert len(received) == (1 if acted else 0)

    # TikTok is back: the next send goes through and is sent once.
    response = api(stack, seeded, "POST", f"/api/v1/clients/{client_id}/messages/", json={"text": "after"})
    assert response.status_code == 201, response.text
    assert [m["body"] for m in control.sent_messages(account=ACCOUNT, user=user)].count({"body": "after"}) == 1


# ------------------------------------------------------------------------------------------ bot builder
ATTEMPTS_OF = """
from clients.models import BotEvent
event = BotEvent.objects.get(uuid=EVENT_ID)
result = {"status": event.status, "attempts": event.attempts,
          "responses": list(event.delivery_attempts.order_by("id").values_list("response_status", flat=True))}
"""


def test_bot_builder_answering_500_then_200_gets_the_event_once(stack, seeded, control, bot, user):
    bot.script(lambda event: (event.get("client") or {}).get("external_id") == user, [500, 200])
    written = control.user_writes(account=ACCOUNT, user=user, text="is anyone there?")

    def pushes_of_this_message(pushes):
        return [p for p in pushes if p.event.get("data", {}).get("message_id") == str(written["message_id"])]

    pushes = bot.wait_for(lambda p: any(x.answered == 200 for x in pushes_of_this_message(p)), timeout=SWEEPER_WAIT)
    mine = pushes_of_this_message(pushes)
    assert [p.answered for p in mine] == [500, 200]
    assert len({p.headers["X-Event-Id"] for p in mine}) == 1
    assert all(p.signature_valid for p in mine)
    event_id = mine[0].headers["X-Event-Id"]
    assert stack.python(f"EVENT_ID = {event_id!r}\n" + ATTEMPTS_OF) == {
        "status": "delivered",
        "attempts": 2,
        "responses": [500, 200],
    }
    time.sleep(2)
    assert len(pushes_of_this_message(bot.pushes)) == 2


# ------------------------------------------------------------------------------------------ workers
LOCKED_UPDATE = """
SELECT count(*) FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE "clients_client"%%'
"""


def test_worker_killed_mid_task_processes_the_event_exactly_once_after_restart(stack, seeded, control, user):
    first = control.user_writes(account=ACCOUNT, user=user, text="first")
    wait_until(lambda: all_processed(stack, [str(first["message_id"])]), timeout=60, message="first message")
    client_id = client_of(stack, user)

    # Hold the client's row so that the worker stops in the middle of processing the next message.
    with psycopg.connect(stack.database_url) as blocker:
        blocker.execute("SELECT id FROM clients_client WHERE id = %s FOR UPDATE", [client_id])
        second = control.user_writes(account=ACCOUNT, user=user, text="second")
        assert second["delivery"]["http_status"] == 200
        with psycopg.connect(stack.database_url, autocommit=True) as observer:
            wait_until(
                lambda: observer.execute(LOCKED_UPDATE).fetchone()[0] == 1, timeout=30, message="worker mid-task"
            )
        stack.processes["worker-inbound"].kill()  # SIGKILL to the worker and its pool: no warm shutdown
    # The lock is released: the killed worker's transaction is rolled back by PostgreSQL.
    stack.restart("worker-inbound")
    message_ids = [str(first["message_id"]), str(second["message_id"])]
    state = wait_until(lambda: all_processed(stack, message_ids), timeout=SWEEPER_WAIT, message="second message")

    assert sorted(state["messages"]) == sorted(message_ids)
    assert sorted(state["bot_events"]) == sorted(message_ids)
    # The killed attempt left nothing behind: its row counts one attempt, the one that committed.
    assert {attempts for _key, _status, attempts in state["rows"]} == {1}


def test_broker_down_during_intake_answers_200_and_the_sweeper_processes_after_recovery(stack, seeded, control, user):
    stack.processes["redis"].stop()
    try:
        written = [control.user_writes(account=ACCOUNT, user=user, text=f"while down {n}") for n in range(3)]
        assert [w["delivery"]["http_status"] for w in written] == [200, 200, 200]
        message_ids = [str(w["message_id"]) for w in written]
        state = journal_of(stack, message_ids)
        assert sorted(status for _key, status, _attempts in state["rows"]) == ["pending"] * 3
    finally:
        stack.restart("redis")

    # The recovered broker is empty: the tasks queued at intake are gone; beat's sweeper queues the rows again.
    state = wait_until(lambda: all_processed(stack, message_ids), timeout=SWEEPER_WAIT, message="sweeper")
    assert sorted(state["messages"]) == sorted(message_ids)
    assert sorted(state["bot_events"]) == sorted(message_ids)


# ------------------------------------------------------------------------------------------ database
def post_until_accepted(
    base_url: str, request: SignedRequest, *, deadline: float, seen: list[int] | None = None
) -> list[int]:
    """Deliver like TikTok: anything but 200 (or no answer) is retried, with a short backoff. Every answer is
    also appended to `seen` as it comes, so a test can watch deliveries that are still being retried."""
    statuses = []
    while time.monotonic() < deadline:
        try:
            status = requests.post(
                f"{base_url}/webhooks/tiktok/",
                data=request.body,
                headers={"Content-Type": "application/json", "TikTok-Signature": request.signature},
                timeout=5,
            ).status_code
        except requests.RequestException:
            status = 0
        statuses.append(status)
        if seen is not None:
            seen.append(status)
        if status == 200:
            return statuses
        time.sleep(0.5)
    return statuses


def test_database_restarted_under_load_loses_no_journal_row(stack, seeded):
    events = payloads.direct_messages(
        app_id=SANDBOX_APP_ID,
        secret=SANDBOX_APP_SECRET,
        business_id=seeded["business_id"],
        count=120,
        users=12,
        run=7,
    )
    message_ids = [payloads.message_id(7, n) for n in range(len(events))]
    outcomes: dict[int, list[int]] = {}
    seen: list[int] = []
    deadline = time.monotonic() + 120

    def sender(offset: int) -> None:
        for index in range(offset, len(events), 4):
            outcomes[index] = post_until_accepted(stack.base_url, events[index], deadline=deadline, seen=seen)
            time.sleep(0.05)

    senders = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for thread in senders:
        thread.start()
    # Stop the database while deliveries are still coming (once a sixth of them are in), keep it down until a
    # delivery has been refused, then start it again: a restart that happens to fall between two deliveries
    # would prove nothing.
    wait_until(lambda: len(outcomes) >= len(events) // 6, timeout=60, interval=0.02, message="deliveries under way")
    postgres = stack.processes["postgres"]
    postgres.stop(signum=signal.SIGINT)  # fast shutdown: open transactions are aborted
    try:
        wait_until(lambda: any(status != 200 for status in seen), timeout=30, interval=0.02, message="a refusal")
    finally:
        postgres.start()
        stack.wait_service("postgres", postgres.port, timeout=60)
    for thread in senders:
        thread.join(timeout=150)

    assert len(outcomes) == len(events)
    assert all(statuses[-1] == 200 for statuses in outcomes.values())
    assert any(statuses != [200] for statuses in outcomes.values()), "the restart did not hit any delivery"
    state = wait_until(lambda: all_processed(stack, message_ids), timeout=SWEEPER_WAIT, message="all processed")
    assert sorted(state["messages"]) == sorted(message_ids)
    assert sorted(state["bot_events"]) == sorted(message_ids)


# ------------------------------------------------------------------------------------------ the worst day
WINDOW_OF = """
from channels_tiktok.models import Conversation
from clients.models import Message
conversation = Conversation.objects.get(client_id=CLIENT)
rows = list(Message.objects.filter(client_id=CLIENT, direction="out").order_by("id").values_list(
    "text", "status", "error_code", "external_id"))
result = {"window_sent": conversation.window_sent, "rows": rows}
"""


def window_of(stack, client_id: int) -> dict:
    return stack.python(f"CLIENT = {client_id}\n" + WINDOW_OF)


def test_redis_killed_during_sends_answers_503_and_keeps_the_window(stack, seeded, control, user):
    written = control.user_writes(account=ACCOUNT, user=user, text="hello")
    wait_until(lambda: all_processed(stack, [str(written["message_id"])]), timeout=60, message="first message")
    client_id = client_of(stack, user)
    before = window_of(stack, client_id)["window_sent"]

    stack.processes["redis"].kill()
    try:
        answers = [
            api(stack, seeded, "POST", f"/api/v1/clients/{client_id}/messages/", json={"text": f"down {n}"})
            for n in range(3)
        ]
    finally:
        stack.restart("redis")
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(503, "rate_limiter_unavailable")] * 3
    state = window_of(stack, client_id)
    assert state["window_sent"] == before  # nothing reached TikTok: no slot used
    assert [tuple(r[1:3]) for r in state["rows"]] == [("failed", "rate_limiter_unavailable")] * 3
    sent = [str(m["body"].get("body", "")) for m in control.sent_messages(account=ACCOUNT, user=user)]
    assert not [body for body in sent if body.startswith("down")]

    response = api(stack, seeded, "POST", f"/api/v1/clients/{client_id}/messages/", json={"text": "back"})
    assert response.status_code == 201, response.text


def test_postgresql_killed_during_a_send_tiktok_accepted_answers_502_and_the_echo_records_it(
    stack, seeded, control, user
):
    written = control.user_writes(account=ACCOUNT, user=user, text="hello")
    wait_until(lambda: all_processed(stack, [str(written["message_id"])]), timeout=60, message="first message")
    client_id = client_of(stack, user)
    text = "sent while the database died"

    control.inject_failure(path=SEND_PATH, mode="delay", delay=1.5, count=1)  # within the 2 s HTTP timeout
    answer: dict = {}

    def send():
        answer["response"] = api(stack, seeded, "POST", f"/api/v1/clients/{client_id}/messages/", json={"text": text})

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.7)  # the send is at TikTok (the sandbox sleeps 1.5 s before it acts and answers)
    stack.processes["postgres"].kill()
    sender.join(timeout=30)
    stack.restart("postgres")

    response = answer["response"]
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "tiktok_unavailable"
    assert [m["body"] for m in control.sent_messages(account=ACCOUNT, user=user)].count({"body": text}) == 1
    # TikTok retries its echo for 72 hours; the sandbox gives up after a few seconds: deliver it again now that
    # the database is back, as TikTok's next retry would.
    echoes = [
        d for d in control.deliveries(event="im_send_msg", business_id=seeded["business_id"]) if text in json.dumps(d)
    ]
    assert echoes
    for echo in echoes:
        control.redeliver(delivery_id=echo["delivery_id"])
    state = wait_until(
        lambda: (
            (s := window_of(stack, client_id))
            and any(r[0] == text and r[1] == "sent" and r[3] for r in s["rows"])
            and s
        ),
        timeout=60,
        message="the echo recorded the send",
    )
    assert [r[0] for r in state["rows"]].count(text) == 1


def test_a_dripping_image_url_does_not_stop_webhooks_from_being_answered(stack, seeded):
    from tests.image_server import ImageServer

    images = ImageServer()
    images.routes["/drip.png"] = ("drip", 0.5)  # a byte every 0.5 s, for minutes
    events = payloads.direct_messages(
        app_id=SANDBOX_APP_ID, secret=SANDBOX_APP_SECRET, business_id=seeded["business_id"], count=40, users=4, run=9
    )
    body = {"account": seeded["account"], "image": {"url": images.url("/drip.png")}}
    answers: list = []

    def validate():
        started = time.monotonic()
        response = api(stack, seeded, "POST", "/api/v1/messages/validate/", json=body)
        answers.append((response.status_code, time.monotonic() - started))

    # More slow calls than the web processes have threads (2 x 8).
    callers = [threading.Thread(target=validate) for _ in range(20)]
    try:
        for thread in callers:
            thread.start()
        time.sleep(2)  # the slow calls hold their threads now (the others were refused at once)
        durations = []
        for request in events[:20]:
            started = time.monotonic()
            status = requests.post(
                f"{stack.base_url}/webhooks/tiktok/",
                data=request.body,
                headers={"Content-Type": "application/json", "TikTok-Signature": request.signature},
                timeout=30,
            ).status_code
            durations.append((status, time.monotonic() - started))
            time.sleep(0.2)
        for thread in callers:
            thread.join(timeout=60)
    finally:
        images.close()
    assert all(status == 200 for status, _ in durations), durations
    assert max(seconds for _, seconds in durations) < 1.0, durations
    # The slow calls end by the fetch's total deadline (5 s) or are refused at once for the project's limit.
    assert len(answers) == 20
    assert {status for status, _ in answers} <= {200, 429}
    assert max(seconds for _, seconds in answers) < 15, answers
