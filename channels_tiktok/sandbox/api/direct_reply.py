"""The comment-to-message reply: `business/message/direct_reply/{get,update}/` (the account's switch) and the
conditions a send with `direct_reply: {reply_type: COMMENT_REPLY, comment_reply: {comment_id}}` must meet. Each
condition TikTok enforces answers its own code (constants.CODE_COMMENT_REPLY_*)."""

from __future__ import annotations

from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox.api.common import _invalid, _messaging
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Account, Comment, Conversation
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

HOUR_MS = 3_600_000


def _type(value: Any) -> None:
    if value != constants.DIRECT_REPLY_TYPE_COMMENT_TO_MESSAGE:
        raise _invalid(f"direct_reply_type must be {constants.DIRECT_REPLY_TYPE_COMMENT_TO_MESSAGE}.")


def direct_reply_get(sandbox: SandboxCore, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        account = _messaging(sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_MESSAGE_READ)
        _type(query.get("direct_reply_type"))
        status = constants.OPERATION_ENABLE if account.comment_to_message else constants.OPERATION_DISABLE
    return envelope({"direct_reply_type": constants.DIRECT_REPLY_TYPE_COMMENT_TO_MESSAGE, "operation_status": status})


def direct_reply_update(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _messaging(sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_MESSAGE_SEND)
        _type(body.get("direct_reply_type"))
        status = body.get("operation_status")
        if status not in (constants.OPERATION_ENABLE, constants.OPERATION_DISABLE):
            raise _invalid("operation_status must be ENABLE or DISABLE.")
        account.comment_to_message = status == constants.OPERATION_ENABLE
    return envelope({})


def comment_reply_target(
    sandbox: SandboxCore, account: Account, value: Any, *, now_ms: int
) -> tuple[Conversation, Comment]:
    """The conversation and comment of a `direct_reply`, after every condition TikTok enforces (state locked)."""
    if not isinstance(value, dict) or value.get("reply_type") != constants.REPLY_TYPE_COMMENT_REPLY:
        raise _invalid(f"direct_reply.reply_type must be {constants.REPLY_TYPE_COMMENT_REPLY}.")
    comment_id = str((value.get("comment_reply") or {}).get("comment_id") or "")
    if not comment_id:
        raise _invalid("direct_reply.comment_reply.comment_id is required.")
    state = sandbox.state
    comment = state.comments.get(comment_id)
    if comment is None:
        raise ApiError(constants.CODE_NOT_FOUND, "The comment does not exist.")
    if not account.comment_to_message:
        raise ApiError(constants.CODE_COMMENT_REPLY_DISABLED, "Comment-to-message is disabled for this account.")
    if account.country not in constants.COMMENT_REPLY_BUSINESS_COUNTRIES:
        raise ApiError(
            constants.CODE_COMMENT_REPLY_BUSINESS_REGION,
            "Comment-to-message is available to businesses registered in Vietnam, Indonesia or Thailand only.",
        )
    if comment.business_id != account.business_id or comment.parent_comment_id:
        raise ApiError(
            constants.CODE_COMMENT_REPLY_NOT_ELIGIBLE,
            "Only a first-level comment on the business's own video can be answered in a message.",
        )
    user = state.users.get(comment.author_id)
    if user is None or constants.region_of(user.country) not in constants.COMMENT_REPLY_COMMENTER_REGIONS:
        raise ApiError(constants.CODE_COMMENT_REPLY_COMMENTER_REGION, "The commenter is not in APAC, LATAM or METAP.")
    if not user.adult:
        raise ApiError(constants.CODE_COMMENT_REPLY_MINOR, "The commenter is under 18.")
    if now_ms - comment.create_time * 1000 > constants.COMMENT_REPLY_HOURS * HOUR_MS:
        raise ApiError(constants.CODE_COMMENT_REPLY_EXPIRED, "The comment is more than 48 hours old.")
    if comment.dm_reply_message_id:
        raise ApiError(constants.CODE_COMMENT_REPLY_ALREADY_REPLIED, "The comment was already answered in a message.")
    conversation = state.conversation(account.business_id, user.unique_identifier)
    since = now_ms - constants.COMMENT_REPLY_NO_EXCHANGE_HOURS * HOUR_MS
    if any(message.timestamp_ms > since for message in conversation.messages):
        raise ApiError(
            constants.CODE_COMMENT_REPLY_RECENT_EXCHANGE,
            "The commenter and the business exchanged messages in the past 24 hours.",
        )
    return conversation, comment
