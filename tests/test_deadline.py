"""The total deadline of outbound HTTP calls: one watchdog thread per process expires the calls that run late."""

import multiprocessing
import threading
import time

from clients.deadline import Deadline


def wait_for(predicate, timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def test_a_call_that_ends_in_time_is_never_expired():
    closed = []
    with Deadline(0.05) as deadline:
        deadline._add(lambda: closed.append(True))
    time.sleep(0.15)
    assert not deadline.expired
    assert closed == []


def test_a_call_that_runs_late_has_its_connections_closed():
    closed = threading.Event()
    with Deadline(0.05) as deadline:
        deadline._add(closed.set)
        assert closed.wait(2)
    assert deadline.expired


def test_a_shorter_deadline_behind_a_longer_one_expires_on_its_own_time():
    started = time.monotonic()
    expired_at = []
    outer = Deadline(5)

    def short_call() -> None:
        with Deadline(0.05) as inner:
            inner._add(lambda: expired_at.append(time.monotonic()))
            wait_for(lambda: inner.expired)

    with outer:
        thread = threading.Thread(target=short_call)
        thread.start()
        thread.join(3)
    assert expired_at
    assert expired_at[0] - started < 1
    assert not outer.expired


def test_many_calls_at_once_each_get_their_own_verdict():
    verdicts: dict[int, bool] = {}

    def call(number: int) -> None:
        with Deadline(0.05 if number % 2 else 10) as deadline:
            if number % 2:
                wait_for(lambda: deadline.expired)
        verdicts[number] = deadline.expired

    threads = [threading.Thread(target=call, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert verdicts == {n: bool(n % 2) for n in range(40)}


def _expires_in_child(queue) -> None:
    with Deadline(0.05) as deadline:
        wait_for(lambda: deadline.expired)
    queue.put(deadline.expired)


def test_a_forked_process_gets_a_watchdog_of_its_own():
    with Deadline(10):  # the parent's watchdog thread runs; the child inherits the object, not the thread
        pass
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_expires_in_child, args=(queue,))
    child.start()
    child.join(10)
    assert queue.get(timeout=1) is True
