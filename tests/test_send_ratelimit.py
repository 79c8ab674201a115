"""The per-app rate limiter (B7): no second sees more than QPS calls, in-process and shared through Redis."""

import threading
import time
import uuid

import pytest

from channels_tiktok import ratelimit

REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture(params=["local", "redis"])
def backend(request, settings):
    """The limiter's backend. App ids are unique per test: Redis is shared with tests running in parallel."""
    settings.REDIS_URL = REDIS_URL if request.param == "redis" else ""
    return request.param


def app() -> str:
    return f"test-app-{uuid.uuid4().hex}"


def burst(n: int, *, qps: int, max_wait: float, app_id: str) -> tuple[list[float], list[float]]:
    admitted, refused = [], []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def worker():
        start.wait()
        try:
            ratelimit.acquire(app_id=app_id, qps=qps, max_wait=max_wait)
        except ratelimit.RateLimitedError as exc:
            with lock:
                refused.append(exc.retry_after)
        else:
            with lock:
                admitted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(admitted), refused


def test_no_second_sees_more_than_qps(backend):
    qps = 20
    admitted, refused = burst(45, qps=qps, max_wait=5, app_id=app())
    assert refused == []
    assert len(admitted) == 45
    # Any qps+1 consecutive calls span at least one second (minus the scheduling jitter of a late wake-up).
    spans = [admitted[i + qps] - admitted[i] for i in range(len(admitted) - qps)]
    assert min(spans) >= 0.9  # a thread may wake late; it never wakes early
    assert admitted[-1] - admitted[0] >= (45 - 1) / qps - 0.05


def test_refuses_beyond_max_wait_with_retry_after(backend):
    admitted, refused = burst(5, qps=2, max_wait=1.0, app_id=app())
    # Slots at 0, 0.5 and 1.0 s fit in the allowed wait; the next free slot (1.5 s) is 0.5 s too far, and a
    # refused call reserves nothing, so both latecomers are told the same.
    assert len(admitted) == 3
    assert [round(r, 1) for r in refused] == [0.5, 0.5]
    assert ratelimit.RateLimitedError(0.2).retry_after_seconds == 1


def test_apps_are_limited_separately(backend):
    first, second = app(), app()
    ratelimit.acquire(app_id=first, qps=1, max_wait=0)
    ratelimit.acquire(app_id=second, qps=1, max_wait=0)
    with pytest.raises(ratelimit.RateLimitedError):
        ratelimit.acquire(app_id=first, qps=1, max_wait=0)


def test_redis_limit_is_shared_between_processes(settings):
    """Two independent Redis connections (as two web processes would hold) share one budget."""
    settings.REDIS_URL = REDIS_URL
    first = ratelimit._RedisBackend(REDIS_URL)
    second = ratelimit._RedisBackend(REDIS_URL)
    key = ratelimit.KEY_PREFIX + app()
    assert first.reserve(key, interval=1.0, max_wait=0) == (True, 0.0)
    admitted, retry_after = second.reserve(key, interval=1.0, max_wait=0)
    assert admitted is False
    assert 0.9 < retry_after <= 1.0
