"""The per-app rate limit of TikTok's API (§6: `TIKTOK_RATE_LIMIT_QPS` requests per second, all accounts together).

A GCRA limiter ("generic cell rate algorithm"): one timestamp per app, the theoretical arrival time of the next
request. Each call reserves the next free slot, spaced 1/QPS apart, and sleeps until it; a slot further away than
`max_wait` is not reserved and the caller is told when to come back. So no second can see more than QPS calls
and callers are served in the order they asked.

- With `settings.REDIS_URL` the timestamp lives in Redis and the check-and-reserve is one Lua script, using
  Redis's clock: every web and task process on every machine shares the limit.
- Without it (the embedded single-machine default) the timestamp lives in this process, under a lock.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "tiktok:ratelimit:"

# KEYS[1] = the app's key; ARGV = interval (s), max_wait (s). Returns {admitted, wait seconds as a string}.
_GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then return {0, tostring(wait - max_wait)} end
local ttl = math.ceil((tat + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', ttl)
return {1, tostring(wait)}
"""


class RateLimitedError(Exception):
    """The limiter cannot admit the call within the allowed wait. `retry_after` is in seconds."""

    def __init__(self, retry_after: float):
        super().__init__(f"Rate limited; retry after {retry_after:.2f}s.")
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


class _LocalBackend:
    def __init__(self):
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(self, key: str, *, interval: float, max_wait: float) -> tuple[bool, float]:
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(key, 0.0), now)
            wait = tat - now
            if wait > max_wait:
                return False, wait - max_wait
            self._tat[key] = tat + interval
            return True, wait

    def reset(self) -> None:
        with self._lock:
            self._tat.clear()


class _RedisBackend:
    def __init__(self, url: str):
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_GCRA_SCRIPT)

    def reserve(self, key: str, *, interval: float, max_wait: float) -> tuple[bool, float]:
        admitted, wait = self._script(keys=[key], args=[repr(interval), repr(max_wait)])
        return bool(admitted), float(wait)

    def reset(self) -> None:
        for key in self._client.scan_iter(f"{KEY_PREFIX}*"):
            self._client.delete(key)


_local = _LocalBackend()


@functools.cache
def _redis_backend(url: str) -> _RedisBackend:
    return _RedisBackend(url)


def _backend():
    return _redis_backend(settings.REDIS_URL) if settings.REDIS_URL else _local


def acquire(*, app_id: str | None = None, max_wait: float | None = None, qps: float | None = None) -> float:
    """Wait for this app's next slot. Returns the seconds waited; raises RateLimitedError if it is too far."""
    qps = qps or settings.TIKTOK_RATE_LIMIT_QPS
    max_wait = settings.TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS if max_wait is None else max_wait
    key = KEY_PREFIX + (app_id or settings.TIKTOK_APP_ID)
    admitted, wait = _backend().reserve(key, interval=1.0 / qps, max_wait=max_wait)
    if not admitted:
        logger.info("tiktok.ratelimit.refused", extra={"retry_after": round(wait, 3)})
        raise RateLimitedError(wait)
    if wait > 0:
        time.sleep(wait)
    return wait


def reset() -> None:
    """Forget every reservation (tests, and staff after changing the QPS setting)."""
    _backend().reset()
