"""The per-app rate limiter (B7): at most QPS admissions in any `1 s + margin`, in-process and shared through Redis,
and every call of the app to TikTok passes through it."""

import threading
import time
import uuid

import pytest
import responses

from channels_tiktok import constants
from channels_tiktok.tiktok import ratelimit
from channels_tiktok.tiktok.client import ThrottledError, TikTokClient
from tests.outbound_fixtures import envelope, tiktok_url

REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture(params=["local", "redis"])
def backend(request, settings):
    """The limiter's backend. App ids are unique per test: Redis is shared with tests running in parallel."""
    settings.REDIS_URL = REDIS_URL if request.param == "redis" else ""
    return request.param


def app() -> str:
    return f"test-app-{uuid.uuid4().hex}"


def max_in_window(times: list[float], window: float) -> int:
    """The most of `times` inside any half-open window `(t - window, t]`: what a sliding-window counter sees."""
    times = sorted(times)
    return max(sum(1 for s in times if t - window < s <= t) for t in times)


def burst(n: int, *, qps: int, max_wait: float, app_id: str, margin: float = 0.05):
    """n threads ask at once. Returns the admissions (sorted by time), the refusals' retry-after, and for each
    admitted thread how long `acquire` took against what it was told to wait."""
    admitted, refused, took = [], [], []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def worker():
        start.wait()
        began = time.monotonic()
        try:
            admission = ratelimit.acquire(app_id=app_id, qps=qps, max_wait=max_wait, margin=margin)
        except ratelimit.RateLimitedError as exc:
            with lock:
                refused.append(exc.retry_after)
        else:
            with lock:
                admitted.append(admission)
                took.append((time.monotonic() - began, admission.wait))

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(admitted, key=lambda a: a.at), refused, took


# --- the rule, on a clock we drive
def test_sliding_log_admits_qps_at_once_then_one_window_later():
    clock = [100.0]
    local = ratelimit._LocalBackend(clock=lambda: clock[0])

    def reserve(max_wait=10.0):
        return local.reserve("k", window=1.05, limit=3, max_wait=max_wait, member=uuid.uuid4().hex)

    # An idle app lets QPS calls through at once; the 4th waits until the 1st leaves the window.
    assert [reserve()[2] for _ in range(3)] == [100.0, 100.0, 100.0]
    assert reserve() == (True, pytest.approx(1.05), pytest.approx(101.05))
    clock[0] = 100.5
    assert reserve()[2] == pytest.approx(101.05)  # the 2nd and 3rd of the burst leave at 101.05 too
    assert reserve()[2] == pytest.approx(101.05)
    assert reserve()[2] == pytest.approx(102.1)
    # Beyond max_wait: nothing reserved, the caller is told how much too far it is.
    admitted, retry_after, _at = reserve(max_wait=1.0)
    assert (admitted, retry_after) == (False, pytest.approx(102.1 - 100.5 - 1.0))  # the 8th: at 102.1 as well
    clock[0] = 110.0  # long idle: old admissions are forgotten, a new burst goes through at once
    assert [reserve()[2] for _ in range(3)] == [110.0, 110.0, 110.0]


def test_a_call_that_woke_late_spaces_the_later_ones_from_when_it_left():
    clock = [100.0]
    local = ratelimit._LocalBackend(clock=lambda: clock[0])

    def reserve(member="x"):
        return local.reserve("k", window=1.05, limit=3, max_wait=10.0, member=member)[2]

    assert [reserve() for _ in range(3)] == [100.0, 100.0, 100.0]
    assert reserve("late") == pytest.approx(101.05)
    clock[0] = 101.09  # its thread woke 40 ms after its admission: the call leaves now
    local.restamp("k", member="late", at=101.05)
    assert [reserve() for _ in range(2)] == [pytest.approx(101.09)] * 2
    # Three calls left at 101.09: the next waits a whole window from then, not from 101.05.
    assert reserve() == pytest.approx(101.09 + 1.05)
    local.restamp("k", member="early", at=100.0)  # a stamp is never moved earlier, nor one that is gone
    assert reserve() == pytest.approx(101.09 + 1.05)


def test_redis_restamp_moves_the_admission_to_when_the_call_left(settings):
    backend = ratelimit._RedisBackend(REDIS_URL)
    key = ratelimit.KEY_PREFIX + app()
    _admitted, _wait, at = backend.reserve(key, window=1.05, limit=1, max_wait=0, member="first")
    _admitted, wait, second_at = backend.reserve(key, window=1.05, limit=1, max_wait=2, member="second")
    assert second_at == pytest.approx(at + 1.05)
    time.sleep(wait + 0.03)
    backend.restamp(key, member="second", at=second_at)
    _admitted, _wait, third_at = backend.reserve(key, window=1.05, limit=1, max_wait=5, member="third")
    assert third_at >= second_at + 0.03 + 1.05 - 0.005


def test_next_slot_is_the_rule_both_backends_apply():
    assert ratelimit.next_slot([], now=5.0, window=1.05, limit=2) == 5.0
    assert ratelimit.next_slot([4.5], now=5.0, window=1.05, limit=2) == 5.0
    assert ratelimit.next_slot([4.5, 4.9], now=5.0, window=1.05, limit=2) == pytest.approx(5.55)
    assert ratelimit.next_slot([4.5, 5.3], now=5.0, window=1.05, limit=2) == pytest.approx(5.55)
    assert ratelimit.next_slot([4.5, 5.6], now=5.0, window=1.05, limit=2) == 5.6  # never before the latest


# --- the guarantee, under contention, on the limiter's own admission times
def test_no_window_sees_more_than_qps(backend):
    qps, margin, n = 20, 0.05, 45
    admitted, refused, took = burst(n, qps=qps, max_wait=5, app_id=app(), margin=margin)
    assert refused == []
    assert len(admitted) == n
    times = [a.at for a in admitted]
    # Calls i and i + qps are a full window apart, so no `1 s + margin` (let alone TikTok's second) holds qps + 1.
    spans = [times[i + qps] - times[i] for i in range(n - qps)]
    assert min(spans) >= 1 + margin - 1e-5
    assert max_in_window(times, 1 + margin - 1e-5) == qps
    # Nor does it hold anyone back for nothing: a call that waited got the earliest moment the rule allows.
    for i, admission in enumerate(admitted):
        if admission.wait > 0:
            earliest = max(times[i - 1], times[i - qps] + 1 + margin if i >= qps else times[i - 1])
            assert admission.at == pytest.approx(earliest, abs=1e-5)
    assert admitted[0].wait == 0  # an idle app lets the first through at once
    # Each caller proceeded no earlier than its admission: `acquire` slept at least what it was told.
    assert all(elapsed >= wait for elapsed, wait in took)


def test_refuses_beyond_max_wait_with_retry_after(backend):
    admitted, refused, _took = burst(5, qps=2, max_wait=1.5, app_id=app(), margin=0.0)
    # Two go at once, two more one second later (within the allowed wait); the next would be at 2 s, 0.5 s
    # too far, and a refused call reserves nothing, so the latecomer is told 0.5 s.
    assert len(admitted) == 4
    assert len(refused) == 1
    assert 0 < refused[0] <= 0.5 + 1e-5  # 0.5 s, less however late the last thread asked
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
    admitted, wait, at = first.reserve(key, window=1.05, limit=1, max_wait=0, member="a")
    assert (admitted, wait) == (True, 0.0)
    admitted, retry_after, next_at = second.reserve(key, window=1.05, limit=1, max_wait=0, member="b")
    assert admitted is False
    assert 0.95 < retry_after <= 1.05
    assert next_at == pytest.approx(at + 1.05)


# --- every call of the app passes through it
@pytest.fixture
def one_per_second(settings):
    settings.REDIS_URL = ""
    settings.TIKTOK_RATE_LIMIT_QPS = 1
    settings.TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS = 0
    ratelimit.reset()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    ratelimit.reset()


@pytest.mark.parametrize(
    ("path", "method", "call"),
    [
        (constants.PATH_OAUTH_REFRESH, responses.POST, lambda c: c.refresh(refresh_token="r")),
        (constants.PATH_TOKEN_INFO, responses.POST, lambda c: c.token_info()),
        (constants.PATH_BUSINESS_GET, responses.GET, lambda c: c.get_profile(business_id="biz")),
        (
            constants.PATH_CAPABILITIES,
            responses.GET,
            lambda c: c.image_send_capability(business_id="b", conversation_id="c"),
        ),
        (
            constants.PATH_MEDIA_UPLOAD,
            responses.POST,
            lambda c: c.upload_image(business_id="b", content=b"x", filename="a.png", content_type="image/png"),
        ),
        (constants.PATH_COMMENT_LIST, responses.GET, lambda c: c.list_comments(business_id="b", video_id="v")),
    ],
)
def test_every_endpoint_counts_against_the_apps_limit(one_per_second, path, method, call):
    """One send uses the app's only call this second; whatever comes next is held back, not sent to TikTok."""
    one_per_second.add(
        responses.POST, tiktok_url(constants.PATH_MESSAGE_SEND), json=envelope({"message": {"message_id": "m1"}})
    )
    one_per_second.add(method, tiktok_url(path), json=envelope({}))
    client = TikTokClient("token")
    client.send_message(business_id="b", conversation_id="c", message_type="text", body={"text": {"body": "hi"}})
    with pytest.raises(ThrottledError) as caught:
        call(client)
    error = caught.value
    assert (error.code, error.sent, error.path, error.retry_safe) == (constants.CODE_RATE_LIMITED, False, path, True)
    assert 0 < error.retry_after <= 1.05  # one window after the send, less the time since
    assert [c.request.url.split("?")[0] for c in one_per_second.calls] == [tiktok_url(constants.PATH_MESSAGE_SEND)]
