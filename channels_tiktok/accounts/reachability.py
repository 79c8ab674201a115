"""Reachability for the owner: over the last 30 days, who could not reach the bot and why, and how the
messaging windows were used. Each figure is one bounded, index-backed count (a date range on an index that
leads with the account)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from channels_tiktok.models import Conversation, QueuedSend
from clients.models import BotEvent

DAYS = 30


@dataclass(frozen=True)
class Reachability:
    days: int
    blocked: int  # messages TikTok held back by its regional rules (client.message_blocked)
    conversations: int  # conversations active in the period
    images_disallowed: int  # of those, where TikTok last said no to images
    closed_with_messages_left: int
    closed_exhausted: int
    queued: int  # messages kept for a next window

    @property
    def images_share(self) -> int | None:
        """Per cent of the active conversations where images are not allowed; None without conversations."""
        if not self.conversations:
            return None
        return round(100 * self.images_disallowed / self.conversations)


def reachability(channel_ids: list[int], *, now: dt.datetime | None = None) -> Reachability:
    since = (now or timezone.now()) - dt.timedelta(days=DAYS)
    events = BotEvent.objects.filter(channel_id__in=channel_ids, created_at__gte=since)
    closed = events.filter(type=BotEvent.Type.WINDOW_CLOSED)
    conversations = Conversation.objects.filter(account_id__in=channel_ids, last_inbound_at__gte=since)
    return Reachability(
        days=DAYS,
        blocked=events.filter(type=BotEvent.Type.CLIENT_MESSAGE_BLOCKED).count(),
        conversations=conversations.count(),
        images_disallowed=conversations.filter(image_send_allowed=False).count(),
        closed_with_messages_left=closed.filter(body__data__reason="expired").count(),
        closed_exhausted=closed.filter(body__data__reason="exhausted").count(),
        queued=QueuedSend.objects.filter(client__channel_id__in=channel_ids, created_at__gte=since).count(),
    )
