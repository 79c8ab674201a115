"""Wake-ups gathered per process (channels_tiktok/webhooks/intake/wakeups.py): `add` never waits for `wake`;
everything added within an interval is woken for in one call; a failing `wake` neither loses the thread nor later
wake-ups; and the journal's intake answers before the wake-up, which follows within the interval."""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal
from channels_tiktok.webhooks.intake.wakeups import Wakeups
from tests import webhook_cases as wc


class Woken:
    """A `wake` that records its calls; it can be held until the test lets it go, or made to fail."""

    def __init__(self, *, hold: bool = False, fail_first: bool = False):
        self.calls: list[list[int]] = []
        self.threads: set[str] = set()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.fail_first = fail_first

    def __call__(self, ids: list[int]) -> None:
        self.calls.append(list(ids))
        self.threads.add(threading.current_thread().name)
        assert self.release.wait(10)
        if self.fail_first and len(self.calls) == 1:
            raise ConnectionError("Redis is down")

    def ids(self) -> list[int]:
        return sorted(i for call in self.calls for i in call)


def wait_until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_without_an_interval_each_add_wakes_at_once_in_the_callers_thread():
    woken = Woken()
    wakeups = Wakeups(wake=woken, interval=0)
    wakeups.add([1, 2])
    wakeups.add([])
    wakeups.add([3])
    assert woken.calls == [[1, 2], [3]]
    assert woken.threads == {threading.current_thread().name}


def test_add_never_waits_for_the_wake_up_and_one_call_covers_what_queued_meanwhile():
    woken = Woken(hold=True)  # a round trip that does not come back until the test says so
    wakeups = Wakeups(wake=woken, interval=0.05)
    wakeups.add([0])
    wait_until(lambda: woken.calls == [[0]])  # the thread is now inside `wake`, held
    with ThreadPoolExecutor(max_workers=8) as pool:
        adds = [pool.submit(wakeups.add, [n]) for n in range(1, 41)]
        for add in adds:
            add.result(timeout=5)  # every add returned while the wake-up was held
    assert woken.calls == [[0]]
    woken.release.set()
    wait_until(lambda: woken.ids() == list(range(41)))
    assert len(woken.calls) == 2  # everything queued during the held call went in the next one
    assert woken.threads == {"journal-wakeups"}


def test_ids_added_later_are_woken_for_after_the_interval_since_the_last_call():
    woken = Woken()
    wakeups = Wakeups(wake=woken, interval=0.2)
    wakeups.add([1])
    wait_until(lambda: woken.calls == [[1]])
    first = time.monotonic()
    wakeups.add([2])
    wakeups.add([3])
    wait_until(lambda: len(woken.calls) == 2)
    assert time.monotonic() - first >= 0.15
    assert woken.calls[1] == [2, 3]


def test_a_failing_wake_up_does_not_stop_the_next_ones():
    woken = Woken(fail_first=True)
    wakeups = Wakeups(wake=woken, interval=0.01)
    wakeups.add([1])
    wait_until(lambda: len(woken.calls) == 1)
    wakeups.add([2])
    wait_until(lambda: len(woken.calls) == 2)
    assert woken.calls == [[1], [2]]


def test_flush_wakes_for_what_is_queued_now():
    woken = Woken()
    wakeups = Wakeups(wake=woken, interval=60)
    wakeups.add([1])
    wait_until(lambda: woken.calls == [[1]])
    wakeups.add([2, 3])  # the thread now waits out its minute
    wakeups.flush()
    assert woken.calls == [[1], [2, 3]]
    wakeups.flush()
    assert woken.calls == [[1], [2, 3]]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the woken task writes from another thread: SQLite's shared in-memory test database locks whole tables",
)
@pytest.mark.django_db(transaction=True)
def test_intake_answers_before_the_workers_are_woken_and_they_are_woken_within_the_interval(settings):
    """Outside a transaction (as under gunicorn) record_delivery returns once its row is committed, without waking
    the workers; the process's wake-up thread does, for the deliveries of the interval together. (The suite's
    tasks run in-process, so the woken task processes the rows in that thread.)"""
    settings.TIKTOK_WEBHOOK_WAKEUP_SECONDS = 0.5
    ids = []
    for number in range(6):
        body = wc.with_content("im_receive_msg_text", message_id=f"74380000000000{number:05d}")
        event_id, created = journal.record_delivery(body=body, headers={})
        assert created
        ids.append(event_id)
    rows = WebhookEvent.objects.filter(pk__in=ids)
    assert WebhookEvent.Status.PENDING in set(rows.values_list("status", flat=True))
    wait_until(lambda: not rows.filter(status=WebhookEvent.Status.PENDING).exists(), timeout=10)
    # The business is not connected here: each row is journaled as ignored, processed by the woken task.
    assert set(rows.values_list("status", flat=True)) == {WebhookEvent.Status.IGNORED}
