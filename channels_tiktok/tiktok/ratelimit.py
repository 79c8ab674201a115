"""The per-app rate limit of TikTok's API (§6: `TIKTOK_RATE_LIMIT_QPS` requests per second, all accounts together).

What counts: every request to TikTok's API base URL made with our app's credentials, whatever the account: sends,
image uploads, image capability checks, comment lists and replies, profiles, media download URLs, webhook
subscriptions and the OAuth token calls (code exchange, refresh, token info, revoke). TikTok limits the *app*,
and the sandbox (TikTok's stand-in) counts all of them, so `TikTokClient` passes each one through `acquire`.
Not counted: the consent page (a browser visit) and downloads from the media URLs TikTok hands out.

The guarantee: at most QPS admissions in any window of `1 s + margin`, i.e. calls `i` and `i + QPS` are admitted
at least `1 s + margin` apart. TikTok counts requests when they *arrive*; a request leaves a little after its
admission (a thread's wake-up, building the request, the network) and that delay varies. The margin
(`TIKTOK_RATE_LIMIT_MARGIN_SECONDS`, 20 ms by default) absorbs that variation, so no rolling second at TikTok
sees QPS + 1 of our calls. The price is the sustained rate: QPS / (1 s + margin), 9.80/s at 10 QPS and 20 ms.
Most of the variation is the caller's own: a thread that sleeps until its admission wakes late when the machine is
busy. So a call that waited is stamped again when it wakes (its entry in the log moves to that moment, never
earlier), and later admissions are spaced from when calls really left, not from when they were due to; the
margin then only has to cover building the request and the network.

It is a sliding-window log: the admission times of the last window, each call taking the earliest moment
`t >= now` (and not before the latest admission) at which `[t - window, t]` holds fewer than QPS others, and
sleeping until then. A moment further away than `max_wait` is not reserved and the caller is told when to come
back. Callers are served in the order they asked; an idle app admits QPS calls at once.

- With `settings.REDIS_URL` the log is a sorted set in Redis and check-and-reserve is one Lua script on Redis's
  clock: every web and task process on every machine shares the limit.
- Without it (the embedded single-machine default) the log lives in this process, under a lock.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings

from channels_tiktok import constants

logger = logging.getLogger(__name__)

# `log:` keeps these sorted sets apart from the single-timestamp keys of the previous (GCRA) limiter.
KEY_PREFIX = "tiktok:ratelimit:log:"

# KEYS[1] = the app's sorted set (member = a unique id, score = admission time).
# ARGV = window (s), limit (calls per window), max_wait (s), member.
# Returns {admitted (1/0), wait or retry-after (s), admission time (s)} as strings.
# Times are seconds since 2023-11-14 (Unix 1.7e9) so that microseconds survive Lua's 14-digit number formatting.
_EPOCH = """
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1700000000) + tonumber(t[2]) / 1000000
"""
_SLIDING_LOG_SCRIPT = (
    _EPOCH
    + """
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%.6f', now - window))
local at = now
local count = redis.call('ZCARD', KEYS[1])
if count > 0 then
  local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  if last > at then at = last end
end
if count >= limit then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')[2])
  if oldest + window > at then at = oldest + window end
end
local wait = at - now
if wait > max_wait then
  return {0, string.format('%.6f', wait - max_wait), string.format('%.6f', at)}
end
redis.call('ZADD', KEYS[1], string.format('%.6f', at), ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil((at - now + window) * 1000) + 1000)
return {1, string.format('%.6f', wait), string.format('%.6f', at)}
"""
)
# KEYS[1] = the app's sorted set, ARGV[1] = the member admitted: its time becomes now, if that is later.
_RESTAMP_SCRIPT = (
    _EPOCH
    + """
redis.call('ZADD', KEYS[1], 'XX', 'GT', string.format('%.6f', now), ARGV[1])
"""
)


@dataclass(frozen=True)
class Admission:
    """A call let through: when (on the backend's clock: Redis's, or this process's monotonic one) and how long
    the caller waited for it."""

    at: float
    wait: float


class RateLimitedError(Exception):
    """The limiter cannot admit the call within the allowed wait. `retry_after` is in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Rate limited; retry after {retry_after:.2f}s.")
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


class LimiterUnavailableError(Exception):
    """The shared limiter's store (Redis) cannot be reached: no call may be admitted, none was."""


def next_slot(log: list[float], *, now: float, window: float, limit: int) -> float:
    """The earliest admission time >= now (and >= the latest admission) with fewer than `limit` admissions of
    the sorted `log` in `[t - window, t]`. The rule both backends apply (the Lua script repeats it)."""
    at = max(now, log[-1]) if log else now
    if len(log) >= limit:
        at = max(at, log[-limit] + window)
    return at


class _LocalBackend:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[str, list[float]] = {}

    def reserve(
        self, key: str, *, window: float, limit: int, max_wait: float, member: str
    ) -> tuple[bool, float, float]:
        with self._lock:
            now = self._clock()
            log = self._logs.setdefault(key, [])
            del log[: bisect.bisect_left(log, now - window)]  # admissions before the window can never matter
            at = next_slot(log, now=now, window=window, limit=limit)
            wait = at - now
            if wait > max_wait:
                return False, wait - max_wait, at
            log.append(at)
            return True, wait, at

    def restamp(self, key: str, *, member: str, at: float) -> None:
        with self._lock:
            now = self._clock()
            log = self._logs.get(key, [])
            index = bisect.bisect_left(log, at)
            if now > at and index < len(log) and log[index] == at:
                del log[index]
                bisect.insort(log, now)

    def reset(self) -> None:
        with self._lock:
            self._logs.clear()


class _RedisBackend:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_SLIDING_LOG_SCRIPT)
        self._restamp = self._client.register_script(_RESTAMP_SCRIPT)

    def reserve(
        self, key: str, *, window: float, limit: int, max_wait: float, member: str
    ) -> tuple[bool, float, float]:
        try:
            admitted, wait, at = self._script(keys=[key], args=[repr(window), str(limit), repr(max_wait), member])
        except (redis.RedisError, OSError) as exc:
            # Admitting without the shared log could exceed the app's limit across processes: refuse instead.
            logger.warning("tiktok.ratelimit.unavailable", extra={"error": type(exc).__name__})
            raise LimiterUnavailableError(str(exc)) from exc
        return bool(admitted), float(wait), float(at)

    def restamp(self, key: str, *, member: str, at: float) -> None:
        try:
            self._restamp(keys=[key], args=[member])
        except (redis.RedisError, OSError) as exc:  # the call was admitted: a lost restamp only spaces less
            logger.warning("tiktok.ratelimit.restamp_failed", extra={"error": type(exc).__name__})

    def reset(self) -> None:
        for key in self._client.scan_iter(f"{KEY_PREFIX}*"):
            self._client.delete(key)


_local = _LocalBackend()


@functools.cache
def _redis_backend(url: str) -> _RedisBackend:
    return _RedisBackend(url)


def _backend():
    return _redis_backend(settings.REDIS_URL) if settings.REDIS_URL else _local


def window_seconds(margin: float | None = None) -> float:
    margin = settings.TIKTOK_RATE_LIMIT_MARGIN_SECONDS if margin is None else margin
    return constants.RATE_LIMIT_WINDOW_SECONDS + margin


def acquire(
    *, app_id: str | None = None, max_wait: float | None = None, qps: int | None = None, margin: float | None = None
) -> Admission:
    """Wait for a free place in this app's window. Raises RateLimitedError if it is more than `max_wait` away,
    LimiterUnavailableError when the shared log (Redis) cannot be reached."""
    qps = qps or settings.TIKTOK_RATE_LIMIT_QPS
    max_wait = settings.TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS if max_wait is None else max_wait
    key = KEY_PREFIX + (app_id or settings.TIKTOK_APP_ID)
    backend, member = _backend(), uuid.uuid4().hex
    admitted, wait, at = backend.reserve(
        key, window=window_seconds(margin), limit=int(qps), max_wait=max_wait, member=member
    )
    if not admitted:
        logger.info("tiktok.ratelimit.refused", extra={"retry_after": round(wait, 3)})
        raise RateLimitedError(wait)
    if wait > 0:
        time.sleep(wait)
        backend.restamp(key, member=member, at=at)  # when the call really leaves (a busy machine wakes us late)
    return Admission(at=at, wait=wait)


def reset() -> None:
    """Forget every admission (tests, and staff after changing the QPS setting)."""
    _backend().reset()
