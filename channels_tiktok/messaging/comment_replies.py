"""Replying to a client's comment: `tiktok_create_comment(text, comment_video_id, comment_id)` (R15).

The ids default to the client's `tiktok_comment_video_id` / `tiktok_comment_id` variables, set when the client
commented. A reply is not idempotent on TikTok's side: once the request may have reached TikTok it is reported,
never repeated. The reply is logged as an outbound `comment_reply` whose external id is the reply's comment id
when TikTok returns one, so the account's own reply coming back as a `comment.update` webhook is recognised.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.messaging.outbound import (
    BlockedError,
    OutboundError,
    RuleViolationsError,
    UpstreamError,
    call,
    ensure_available,
    failure_detail,
)
from channels_tiktok.messaging.rules import Violation
from channels_tiktok.messaging.send import mark_failed
from channels_tiktok.messaging.targets import account_of
from channels_tiktok.tiktok.client import TikTokError
from clients.models import Client, ClientVariable, Message

logger = logging.getLogger(__name__)

CODES: dict[str, str] = {
    "comment_text_required": "A comment reply needs a text.",
    "comment_text_too_long": f"A comment reply has at most {constants.MAX_COMMENT_REPLY_LENGTH} characters.",
    "comment_target_missing": "No comment to answer: give comment_video_id and comment_id, or let the client comment "
    "first (they fill tiktok_comment_video_id and tiktok_comment_id).",
}


def _violation(code: str, field: str) -> Violation:
    return Violation(code=code, field=field, message=CODES[code])


def _reply_comment_id(data: dict) -> str:
    """TikTok's id of the new reply; where it sits in the answer is not documented, so look in both places."""
    comment = got if isinstance(got := data.get("comment"), dict) else {}
    value = data.get("comment_id") or comment.get("comment_id") or ""
    return str(value)


def reply_to_comment(*, client: Client, text: str, comment_video_id: str = "", comment_id: str = "") -> Message:
    """Post `text` as a reply to the client's comment and log it. Raises an OutboundError subclass."""
    text = text or ""
    errors = []
    if not text.strip():
        errors.append(_violation("comment_text_required", "text"))
    elif len(text) > constants.MAX_COMMENT_REPLY_LENGTH:
        errors.append(_violation("comment_text_too_long", "text"))
    variables = dict(
        ClientVariable.objects.filter(
            client=client, key__in=[constants.VAR_COMMENT_VIDEO_ID, constants.VAR_COMMENT_ID]
        ).values_list("key", "value")
    )
    video_id = str(comment_video_id or variables.get(constants.VAR_COMMENT_VIDEO_ID, ""))
    parent_id = str(comment_id or variables.get(constants.VAR_COMMENT_ID, ""))
    if not video_id:
        errors.append(_violation("comment_target_missing", "comment_video_id"))
    if not parent_id:
        errors.append(_violation("comment_target_missing", "comment_id"))
    if errors:
        raise RuleViolationsError(errors)

    account = account_of(client)
    ensure_available(account)
    granted = set(account.scopes.values_list("scope", flat=True))
    if constants.SCOPE_COMMENT_MANAGE not in granted:
        raise BlockedError(
            "missing_scope",
            f"The account did not grant {constants.SCOPE_COMMENT_MANAGE}: reconnect it and allow replying to comments.",
        )

    message = Message.objects.create(
        channel_id=client.channel_id,
        client=client,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.COMMENT_REPLY,
        source=Message.Source.BOT,
        status=Message.Status.QUEUED,
        text=text,
        payload={"video_id": video_id, "comment_id": parent_id},
    )
    log = {"message_id": message.pk, "client_id": client.pk, "account_id": account.pk}
    try:
        data = call(
            account,
            lambda c: c.reply_to_comment(
                business_id=account.business_id, video_id=video_id, comment_id=parent_id, text=text
            ),
            event="tiktok.comment_reply",
        )
    except OutboundError as exc:
        mark_failed(message, code=exc.code, detail=exc.message)
        raise
    except TikTokError as error:
        refusal = UpstreamError.from_error(error)
        mark_failed(message, code=refusal.code, detail=failure_detail(error))
        logger.info("tiktok.comment_reply.failed", extra={**log, "code": refusal.code, "tiktok_code": error.code})
        raise refusal from error
    reply_id = _reply_comment_id(data)
    message.status = Message.Status.SENT
    message.external_id = reply_id or None
    message.sent_at = timezone.now()
    message.payload = {**message.payload, "reply_comment_id": reply_id}
    message.save(update_fields=["status", "external_id", "sent_at", "payload"])
    logger.info("tiktok.comment_reply.sent", extra={**log, "external_id": reply_id})
    return message
