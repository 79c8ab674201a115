"""Wake-up lanes of the webhook journal (B10): whether a worker task is already queued or draining.

A worker task drains every pending journal row (in batches) before it stops, so a committed row needs a task only
when none is on its way. Each row falls in one of `LANES` lanes; a lane's flag says "a task of this lane is queued
or draining". A wake-up sets the flags with an atomic SET NX and queues a task only for a lane whose flag it set:
one Redis round trip instead of a broker publish per wake-up (measured: without lanes the intake took about a
fifth fewer deliveries per second), and no stream of tasks for the workers to wade through. The draining task
clears its lane's flag and then takes one more look (processing.drain), so a row whose wake-up found the flag
still set is always seen. `LANES` tasks may drain at once: as many as the worker processes that should
share a backlog. The TTL only bounds how long a lane stays blocked should its task be lost (a purged queue, a
crashed broker); the sweeper still re-queues any row left pending past its lease.

The flags live in Redis (`REDIS_URL`) through one client per process: Django's Redis cache builds a new client
object on every call, a cost that shows at webhook rates. Without Redis (the embedded default, the tests) they
live in Django's cache.
"""

import functools

import redis
from django.conf import settings
from django.core.cache import cache
from redis.commands.core import Script

LANES = 4
TTL_SECONDS = 10
PREFIX = "tiktok:webhook:lane:"


def lane(event_id: int) -> int:
    return event_id % LANES


def key(event_id: int) -> str:
    return f"{PREFIX}{lane(event_id)}"


@functools.cache
def _redis() -> redis.Redis | None:
    # redis-py's pool notices a fork and reconnects, so a client made before gunicorn forks stays usable.
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def claim(event_id: int) -> bool:
    """Set the lane's flag of this row; True if it was not set (the caller then queues a task)."""
    return bool(claim_many([lane(event_id)]))


def claim_many(numbers: list[int]) -> list[int]:
    """Set the flags of these lanes in one round trip; returns the lanes whose flag was not set (the caller queues
    a task for each)."""
    client = _redis()
    if client is None:
        return [number for number in numbers if cache.add(key(number), 1, timeout=TTL_SECONDS)]
    positions = _claim_script(client)(keys=[key(number) for number in numbers], args=[TTL_SECONDS])
    return [numbers[position - 1] for position in positions]


# SET NX EX of every lane in KEYS, in one command; returns the 1-based positions of the keys it set. A web process
# claims lanes on each wake-up (wakeups.py): one script call cost it half the CPU of a pipeline of SETs (B10).
_CLAIM = """
local claimed = {}
for position, lane in ipairs(KEYS) do
  if redis.call('SET', lane, '1', 'NX', 'EX', ARGV[1]) then claimed[#claimed + 1] = position end
end
return claimed
"""


@functools.cache
def _claim_script(client: redis.Redis) -> Script:
    # Sent by its SHA1 (EVALSHA); redis-py loads it again should the server have forgotten it (a restart).
    return client.register_script(_CLAIM)


def release(event_id: int) -> None:
    client = _redis()
    if client is None:
        cache.delete(key(event_id))
    else:
        client.delete(key(event_id))


def release_all() -> None:
    """Clear every flag: after the broker's queue was purged, so that the next delivery queues a task again."""
    keys = [key(lane) for lane in range(LANES)]
    client = _redis()
    if client is None:
        cache.delete_many(keys)
    else:
        client.delete(*keys)
