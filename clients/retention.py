"""Retention: rows that have done their work are deleted once they are older than the configured number of days.

The webhook journal and the bot events grow by a row or more per delivery; a viral account (100 000 comments an
hour) adds millions a day, each with its raw payload. Only finished rows go: a row still due for work (pending,
or waiting for a retry) stays however old it is. Which rows are finished is each model's own rule
(channels_tiktok.webhooks.journal.prune, clients.delivery.prune); this module holds what they share.

Rows are deleted in short batches, each batch its own short transaction (no long lock, no huge transaction for
the database to hold), until none is left or the run's time budget is spent; the next scheduled run goes on where
this one stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from django.db.models import QuerySet

logger = logging.getLogger(__name__)

BATCH = 2000
# A run of the beat's schedule (every ten minutes) works at most this long, so that it never holds a worker from
# the deliveries it exists to serve; a backlog is cleared over a few runs.
TIME_BUDGET_SECONDS = 10.0


def cutoff(now: dt.datetime, days: int) -> dt.datetime | None:
    """Rows received before this may go; None when `days` is 0, which keeps every row."""
    return now - dt.timedelta(days=days) if days > 0 else None


def delete_in_batches(
    rows: QuerySet,
    *,
    batch: int = BATCH,
    budget_seconds: float = TIME_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Delete every row of `rows`, `batch` at a time, until none is left or `budget_seconds` have passed; returns
    how many were deleted. Each DELETE repeats the filter, so a row that changed meanwhile (a replay put it back to
    work) is left alone; rows that cascade from these are deleted with them."""
    deadline = clock() + budget_seconds
    label = rows.model._meta.label
    total = 0
    while True:
        ids = list(rows.order_by().values_list("pk", flat=True)[:batch])
        if ids:
            _count, by_model = rows.filter(pk__in=ids).delete()
            total += by_model.get(label, 0)
        if len(ids) < batch or clock() >= deadline:
            return total


def prune(rows: QuerySet | None, *, event: str, budget_seconds: float = TIME_BUDGET_SECONDS) -> int:
    """Delete a model's prunable `rows` (None: that model is kept forever) within the time budget and log how many
    went as `event`; returns the count."""
    if rows is None:
        return 0
    count = delete_in_batches(rows, budget_seconds=budget_seconds)
    if count:
        logger.info(event, extra={"count": count})
    return count
