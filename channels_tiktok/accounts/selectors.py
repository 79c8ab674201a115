"""Reads for the staff console and the owner's page: each one an indexed query, safe on tables with millions of
rows (see `manage.py measure_admin`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Value
from django.db.models.functions import MD5, TruncDate
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import Conversation, Referral, TikTokAccount, WebhookEvent
from clients.models import Client, ClientVariable, Message

CHART_DAYS = 14
RECENT_CONVERSATIONS = 10


def account_ids_for_id(term: str) -> set[int]:
    """Accounts a ticket's id belongs to: a conversation id, comment id, message id or client external id.

    Each lookup is an equality on an indexed column, so this stays fast whatever the size of the logs.
    """
    term = term.strip()
    if not term:
        return set()
    ids: set[int | None] = set(
        Conversation.objects.filter(conversation_id=term).values_list("account_id", flat=True)[:50]
    )
    ids |= set(WebhookEvent.objects.filter(conversation_id=term).values_list("account_id", flat=True)[:50])
    ids |= set(WebhookEvent.objects.filter(comment_id=term).values_list("account_id", flat=True)[:50])
    ids |= set(Message.objects.filter(external_id=term).values_list("channel_id", flat=True)[:50])
    ids |= set(Client.objects.filter(external_id=term).values_list("channel_id", flat=True)[:50])
    ids |= set(
        ClientVariable.objects.alias(value_md5=MD5("value"))  # the (key, md5(value)) index finds it
        .filter(key=constants.VAR_COMMENT_ID, value_md5=MD5(Value(term)), value=term)
        .values_list("client__channel_id", flat=True)[:50]
    )
    return {pk for pk in ids if pk is not None}


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    inbound: int
    outbound: int


def messages_per_day(*, channel_id: int, now: dt.datetime | None = None, days: int = CHART_DAYS) -> list[DayCount]:
    """Messages in and out of a channel per day (in the current time zone), oldest day first, `days` days."""
    today = timezone.localdate(now or timezone.now())
    first = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    rows = (
        Message.objects.filter(channel_id=channel_id, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day", "direction")
        .annotate(count=Count("*"))
        .order_by()
    )
    counts: dict[tuple[dt.date, str], int] = {(row["day"], row["direction"]): row["count"] for row in rows}
    return [
        DayCount(
            day=day,
            inbound=counts.get((day, Message.Direction.INBOUND), 0),
            outbound=counts.get((day, Message.Direction.OUTBOUND), 0),
        )
        for day in (first + dt.timedelta(days=n) for n in range(days))
    ]


@dataclass(frozen=True)
class WebhookHealth:
    last_received_at: dt.datetime | None
    failures_24h: int
    last_failure: WebhookEvent | None


FAILURE_COUNT_CAP = 1000


def webhook_health(*, account: TikTokAccount, now: dt.datetime | None = None) -> WebhookHealth:
    """When TikTok last reached us for this account, and what failed to process in the last 24 hours."""
    since = (now or timezone.now()) - dt.timedelta(hours=24)
    failed = WebhookEvent.objects.filter(account=account, status=WebhookEvent.Status.FAILED, received_at__gte=since)
    last_received = account.last_webhook_at
    if last_received is None:
        last_received = (
            WebhookEvent.objects.filter(account=account).order_by("-id").values_list("received_at", flat=True).first()
        )
    return WebhookHealth(
        last_received_at=last_received,
        # Capped: a page must not count a flood; "1000+" says enough.
        failures_24h=failed.order_by()[:FAILURE_COUNT_CAP].count(),
        last_failure=failed.order_by("-received_at").only("id", "received_at", "event", "error").first(),
    )


def recent_conversations(*, account: TikTokAccount, limit: int = RECENT_CONVERSATIONS) -> list[Conversation]:
    """The conversations whose client wrote last, with their clients."""
    return list(
        Conversation.objects.filter(account=account, last_inbound_at__isnull=False)
        .select_related("client")
        .order_by("-last_inbound_at")[:limit]
    )


def last_message_received_at(*, channel_id: int) -> dt.datetime | None:
    """When a client of the channel last wrote (index on clients by channel and last message)."""
    return (
        Client.objects.filter(channel_id=channel_id, last_message_at__isnull=False)
        .order_by("-last_message_at")
        .values_list("last_message_at", flat=True)
        .first()
    )


def referral_counts(*, account_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per account, how many conversations were opened from each referral source (`ad`, `short_link`): one
    grouped query for all the accounts (index on referrals by account and source)."""
    counts: dict[int, dict[str, int]] = {pk: {} for pk in account_ids}
    rows = (
        Referral.objects.filter(account_id__in=account_ids)
        .values_list("account_id", "source")
        .annotate(number=Count("id"))
        .order_by()
    )
    for account_id, source, number in rows:
        counts[account_id][source] = number
    return counts
