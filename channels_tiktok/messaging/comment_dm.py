"""The one private message a high-intent comment may get (`direct_reply` COMMENT_REPLY), and the account's
comment-to-message switch (`direct_reply/get`, `direct_reply/update`).

What we know is checked before the call (rules.comment_dm_refusal: the business's region, 48 hours, already
answered, a DM exchange in the past 24 hours); what only TikTok knows (the commenter's region and age, the kind of
comment, the switch) comes back as TikTok's code and is answered with our stable code. The comment is claimed
before the call (a conditional UPDATE), so two concurrent calls never both send; a refusal releases it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.messaging.outbound import BlockedError, UpstreamError, call, ensure_available, failure_detail
from channels_tiktok.messaging.rules import comment_dm_refusal
from channels_tiktok.messaging.targets import account_of
from channels_tiktok.models import Conversation, HighIntentComment, TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients import services
from clients.models import Client, Message

logger = logging.getLogger(__name__)

# Our refusal codes (409) and what each means; the API documents them and the catalogue translates them.
CODES: dict[str, str] = {
    "comment_dm_unknown_comment": "No high-intent comment with this id from this client: only comments TikTok "
    "flagged as high-intent can be answered in a private message.",
    "comment_dm_business_region": "Answering a comment in a private message is available to businesses "
    "registered in Vietnam, Indonesia or Thailand only.",
    "comment_dm_commenter_region": "The commenter is not in Asia-Pacific, Latin America or the Middle East, "
    "Turkey, Africa and Pakistan: TikTok does not allow a private reply.",
    "comment_dm_not_eligible": "Only a first-level comment on the account's own video can be answered privately.",
    "comment_dm_expired": "The comment is more than 48 hours old: it can no longer be answered privately.",
    "comment_dm_already_replied": "The comment was already answered with a private message (only one is allowed).",
    "comment_dm_recent_exchange": "The client and the account exchanged messages in the past 24 hours: answer in "
    "the conversation instead.",
    "comment_dm_commenter_minor": "The commenter is under 18: TikTok does not allow a private reply.",
    "comment_dm_disabled": "Comment-to-message is switched off for this account: switch it on first.",
}
TIKTOK_CODES: dict[int | None, str] = {
    constants.CODE_COMMENT_REPLY_BUSINESS_REGION: "comment_dm_business_region",
    constants.CODE_COMMENT_REPLY_COMMENTER_REGION: "comment_dm_commenter_region",
    constants.CODE_COMMENT_REPLY_NOT_ELIGIBLE: "comment_dm_not_eligible",
    constants.CODE_COMMENT_REPLY_EXPIRED: "comment_dm_expired",
    constants.CODE_COMMENT_REPLY_ALREADY_REPLIED: "comment_dm_already_replied",
    constants.CODE_COMMENT_REPLY_RECENT_EXCHANGE: "comment_dm_recent_exchange",
    constants.CODE_COMMENT_REPLY_MINOR: "comment_dm_commenter_minor",
    constants.CODE_COMMENT_REPLY_DISABLED: "comment_dm_disabled",
}
DM_KINDS_EXCLUDED = (Message.Kind.COMMENT, Message.Kind.COMMENT_REPLY, Message.Kind.BLOCKED)


def refused(code: str) -> BlockedError:
    return BlockedError(code, CODES[code])


def _last_dm_at(client: Client) -> dt.datetime | None:
    """When the client and the account last exchanged a direct message (either way)."""
    return (
        Message.objects.filter(client=client)
        .exclude(kind__in=DM_KINDS_EXCLUDED)
        .exclude(status__in=[Message.Status.FAILED, Message.Status.QUEUED])
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def send_comment_dm(*, client: Client, comment_id: str, text: str, now: dt.datetime | None = None) -> Message:
    """Send the comment's one private message and log it. Raises BlockedError (a refusal code of CODES,
    account_unavailable) or UpstreamError."""
    now = now or timezone.now()
    account = account_of(client)
    ensure_available(account)
    comment = HighIntentComment.objects.filter(account=account, client=client, comment_id=str(comment_id)).first()
    if comment is None:
        raise refused("comment_dm_unknown_comment")
    code = comment_dm_refusal(
        business_country=account.country,
        commented_at=comment.commented_at,
        replied=comment.replied_at is not None,
        last_dm_at=_last_dm_at(client),
        now=now,
    )
    if code:
        raise refused(code)
    # Claim the comment: a concurrent call finds it answered.
    if not HighIntentComment.objects.filter(pk=comment.pk, replied_at__isnull=True).update(replied_at=now):
        raise refused("comment_dm_already_replied")
    log = {"client_id": client.pk, "account_id": account.pk, "comment_id": comment.comment_id}
    try:
        sent = call(
            account,
            lambda c: c.send_comment_dm(business_id=account.business_id, comment_id=comment.comment_id, text=text),
            event="tiktok.comment_dm",
        )
    except TikTokError as error:
        ours = TIKTOK_CODES.get(error.code)
        if ours != "comment_dm_already_replied":
            HighIntentComment.objects.filter(pk=comment.pk).update(replied_at=None)
        logger.info("tiktok.comment_dm.refused", extra={**log, "tiktok_code": error.code, "code": ours})
        if ours:
            raise refused(ours) from error
        refusal = UpstreamError.from_error(error)
        refusal.message = failure_detail(error)
        raise refusal from error
    except Exception:
        HighIntentComment.objects.filter(pk=comment.pk).update(replied_at=None)
        raise
    return _record(client=client, account=account, comment=comment, text=text, sent=sent, now=now)


def _record(
    *, client: Client, account: TikTokAccount, comment: HighIntentComment, text: str, sent: dict, now: dt.datetime
) -> Message:
    conversation_id = str(sent.get("conversation_id") or "")
    with transaction.atomic():
        message = Message.objects.create(
            channel_id=client.channel_id,
            client=client,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.TEXT,
            source=Message.Source.BOT,
            status=Message.Status.SENT,
            external_id=str(sent.get("message_id") or "") or None,
            text=text,
            sent_at=now,
            payload={"comment_id": comment.comment_id, "direct_reply": constants.REPLY_TYPE_COMMENT_REPLY},
        )
        HighIntentComment.objects.filter(pk=comment.pk).update(reply_message=message)
        if conversation_id:
            # The conversation exists now; its window opens only when the client writes.
            Conversation.objects.update_or_create(
                client=client, defaults={"account": account, "conversation_id": conversation_id}
            )
            services.set_variables(client=client, values={constants.VAR_CONVERSATION_ID: conversation_id})
    logger.info("tiktok.comment_dm.sent", extra={"message_id": message.pk, "client_id": client.pk})
    return message


def read_switch(account: TikTokAccount) -> TikTokAccount:
    """Read the account's comment-to-message switch from TikTok and keep it. Raises TikTokError,
    tokens.AccountUnavailableError."""
    enabled = tokens.call(account, lambda c: c.comment_to_message_enabled(business_id=account.business_id))
    return _keep(account, enabled)


def set_switch(account: TikTokAccount, *, enabled: bool) -> TikTokAccount:
    """Switch comment-to-message on or off on TikTok and keep it."""
    tokens.call(account, lambda c: c.set_comment_to_message(business_id=account.business_id, enabled=enabled))
    return _keep(account, enabled)


def _keep(account: TikTokAccount, enabled: bool) -> TikTokAccount:
    account.comment_to_message = enabled
    account.comment_to_message_checked_at = timezone.now()
    TikTokAccount.objects.filter(pk=account.pk).update(
        comment_to_message=enabled, comment_to_message_checked_at=account.comment_to_message_checked_at
    )
    return account
