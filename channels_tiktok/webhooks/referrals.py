"""`im_referral_msg`: a user opened the conversation from a Direct Messaging ad or a `tiktok.me` short link.

The client's read-only variables say where they came from (`tiktok_referral_source`, `tiktok_ad_id`,
`tiktok_ad_name`, `tiktok_short_link_ref`; the latest referral wins, fields it lacks become ""), the referral is
kept per account (counts by source on the owner's page and the admin) and the bot gets `client.referral` with the
whole referral.
"""

from __future__ import annotations

from typing import Any

from channels_tiktok import constants
from channels_tiktok.models import Referral, WebhookEvent
from channels_tiktok.webhooks.inbound import (
    PROCESSED,
    Inbound,
    Outcome,
    id_in,
    object_of,
    upsert_conversation,
    upsert_user,
)
from clients import services
from clients.models import BotEvent


def _first(value: Any) -> dict:
    """A referral's `ad` or `short_link`: an object in webhooks, a list of them in conversation/list."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _text(block: dict, key: str, limit: int) -> str:
    value = block.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value.strip()[:limit] if isinstance(value, str) else ""


def read_referral(content: dict) -> dict[str, str]:
    """Where the user came from: source (`ad`, `short_link`, or what TikTok sent), ad id and name, short link ref."""
    referral = object_of(content, "referral")
    ad, short_link = _first(referral.get("ad")), _first(referral.get("short_link"))
    source = _text(referral, "source", 20).lower()
    if not source:
        source = constants.REFERRAL_SOURCE_AD if ad else constants.REFERRAL_SOURCE_SHORT_LINK if short_link else ""
    # Some payloads carry `ad_id`, `ad_name` and `ref` on the referral itself: read there when the block lacks them.
    return {
        constants.VAR_REFERRAL_SOURCE: source,
        constants.VAR_AD_ID: _text(ad, "ad_id", 64) or _text(referral, "ad_id", 64),
        constants.VAR_AD_NAME: _text(ad, "ad_name", 255) or _text(referral, "ad_name", 255),
        constants.VAR_SHORT_LINK_REF: _text(short_link, "ref", 255) or _text(referral, "ref", 255),
    }


def receive_referral(inbound: Inbound) -> Outcome:
    content = inbound.content
    external_id = id_in(content, "unique_identifier") or id_in(content, "from_user", "id")
    if not external_id:
        return Outcome(WebhookEvent.Status.FAILED, "im_referral_msg without the user's id")
    found = read_referral(content)
    if not found[constants.VAR_REFERRAL_SOURCE]:
        return Outcome(WebhookEvent.Status.FAILED, "im_referral_msg without a referral")
    username = content["from"] if isinstance(content.get("from"), str) else ""
    at = inbound.at()
    client = upsert_user(inbound, external_id=external_id, username=username, display_name="", seen_at=at)
    conversation_id = id_in(content, "conversation_id")
    values = dict(found)
    if conversation_id:
        values[constants.VAR_CONVERSATION_ID] = conversation_id
        upsert_conversation(inbound, client=client, conversation_id=conversation_id)
    variables, _changed = services.merge_variables(client=client, values=values)
    referral = object_of(content, "referral")
    # Once per webhook row (a replay changes nothing): INSERT … ON CONFLICT DO NOTHING.
    Referral.objects.bulk_create(
        [
            Referral(
                webhook_event=inbound.event,
                account=inbound.account,
                client=client,
                source=found[constants.VAR_REFERRAL_SOURCE],
                ad_id=found[constants.VAR_AD_ID],
                ad_name=found[constants.VAR_AD_NAME],
                short_link_ref=found[constants.VAR_SHORT_LINK_REF],
                referral=referral,
                received_at=at,
            )
        ],
        ignore_conflicts=True,
    )
    inbound.emit(
        BotEvent.Type.CLIENT_REFERRAL,
        client=client,
        data={
            "conversation_id": conversation_id,
            "source": found[constants.VAR_REFERRAL_SOURCE],
            "ad_id": found[constants.VAR_AD_ID],
            "ad_name": found[constants.VAR_AD_NAME],
            "short_link_ref": found[constants.VAR_SHORT_LINK_REF],
            "referral": referral,
        },
        variables=variables,
    )
    return PROCESSED
