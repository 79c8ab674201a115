"""Group commit (webhooks/intake/group_commit.py): threads that submit while a write is in progress are written
together by the next leader, each gets its own outcome, and a failure reaches exactly the items it concerns."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from channels_tiktok.webhooks.intake.group_commit import GroupCommit


class Recorder:
    """A `write` that records its batches; the first batch can be held until the test lets it go."""

    def __init__(self, *, hold_first: bool = False, fail: set | None = None):
        self.batches: list[list] = []
        self.release = threading.Event()
        self.holding = threading.Event()
        self.hold_first = hold_first
        self.fail = fail or set()

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        if self.hold_first and len(self.batches) == 1:
            self.holding.set()
            assert self.release.wait(5)
        return [ValueError(f"item {item}") if item in self.fail else item * 10 for item in items]


def wait_until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def queued(group: GroupCommit) -> int:
    with group._lock:
        return len(group._queue)


def test_a_lone_item_is_written_at_once_in_a_batch_of_its_own():
    write = Recorder()
    group = GroupCommit(write=write)
    assert group.submit(1) == 10
    assert group.submit(2) == 20
    assert write.batches == [[1], [2]]


def test_items_submitted_during_a_write_are_written_together_by_the_next_leader():
    write = Recorder(hold_first=True)
    group = GroupCommit(write=write)
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(group.submit, 1)
        assert write.holding.wait(5)
        later = [pool.submit(group.submit, item) for item in (2, 3, 4)]
        wait_until(lambda: queued(group) == 3)
        write.release.set()
        assert first.result(5) == 10
        assert [future.result(5) for future in later] == [20, 30, 40]
    assert write.batches[0] == [1]
    assert sorted(write.batches[1]) == [2, 3, 4]
    assert len(write.batches) == 2


def test_an_item_whose_write_failed_raises_in_its_own_thread_only():
    write = Recorder(hold_first=True, fail={3})
    group = GroupCommit(write=write)
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(group.submit, 1)
        assert write.holding.wait(5)
        two, three = pool.submit(group.submit, 2), pool.submit(group.submit, 3)
        wait_until(lambda: queued(group) == 2)
        write.release.set()
        assert first.result(5) == 10
        assert two.result(5) == 20
        with pytest.raises(ValueError, match="item 3"):
            three.result(5)


def test_a_write_that_raises_fails_its_whole_batch_and_the_next_one_starts_afresh():
    calls = []

    def write(items):
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database down")
        return [item * 10 for item in items]

    group = GroupCommit(write=write)
    with pytest.raises(ConnectionError, match="database down"):
        group.submit(1)
    assert group.submit(2) == 20
    assert calls == [[1], [2]]


def test_after_sees_the_written_items_once_their_threads_are_released():
    write = Recorder(fail={2})
    seen = []
    group = GroupCommit(write=write, after=lambda written: seen.append(written))
    assert group.submit(1) == 10
    with pytest.raises(ValueError, match="item 2"):
        group.submit(2)
    assert seen == [[(1, 10)], []]


def test_a_batch_never_exceeds_its_limit_and_nothing_is_left_behind():
    write = Recorder(hold_first=True)
    group = GroupCommit(write=write, max_batch=3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(group.submit, 0)
        assert write.holding.wait(5)
        later = [pool.submit(group.submit, item) for item in range(1, 8)]
        wait_until(lambda: queued(group) == 7)
        write.release.set()
        assert first.result(5) == 0
        assert sorted(future.result(5) for future in later) == [10 * item for item in range(1, 8)]
    assert all(len(batch) <= 3 for batch in write.batches)
    assert sorted(item for batch in write.batches for item in batch) == list(range(8))
