"""Who a send goes to: the client's TikTok account, its conversation, and the facts of that conversation that the
send rules judge (the window, the slots used, whether TikTok lets it take images)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from channels_tiktok.messaging import rules
from channels_tiktok.models import Conversation, TikTokAccount
from clients.models import Client


def account_of(client: Client) -> TikTokAccount:
    return TikTokAccount.objects.get(channel_id=client.channel_id)


def conversation_of(client: Client) -> Conversation | None:
    return Conversation.objects.filter(client=client).first()


def capability_fresh(conversation: Conversation, now: dt.datetime) -> bool:
    ttl = dt.timedelta(seconds=settings.TIKTOK_IMAGE_CAPABILITY_TTL_SECONDS)
    return conversation.image_checked_at is not None and now - conversation.image_checked_at < ttl


def facts_of(conversation: Conversation | None, *, now: dt.datetime) -> rules.ConversationFacts:
    if conversation is None:
        return rules.ConversationFacts()
    return rules.ConversationFacts(
        conversation_id=conversation.conversation_id,
        last_inbound_at=conversation.last_inbound_at,
        window_sent=conversation.window_sent,
        # A stale answer is not trusted either way: the send asks TikTok again.
        image_send_allowed=conversation.image_send_allowed if capability_fresh(conversation, now) else None,
    )
