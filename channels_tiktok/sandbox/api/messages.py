"""business/message/send: text, image, button cards, shared posts and sender actions, within the 48-hour window."""

from __future__ import annotations

from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox import events
from channels_tiktok.sandbox.api.common import _conversation, _invalid, _messaging
from channels_tiktok.sandbox.api.direct_reply import comment_reply_target
from channels_tiktok.sandbox.api.videos import own_post
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Account, Conversation, Message
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

WINDOW_MS = constants.WINDOW_HOURS * 3600 * 1000


def _text(value: Any) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("body"), str) or not value["body"]:
        raise _invalid("text.body is required.")
    if len(value["body"]) > constants.MAX_TEXT_LENGTH:
        raise _invalid(f"text.body is longer than {constants.MAX_TEXT_LENGTH} characters.")
    return {"body": value["body"]}


def _template(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _invalid("template is required.")
    card = value.get("type")
    if card not in (constants.TEMPLATE_QA_BUTTON_CARD, constants.TEMPLATE_QA_LINK_CARD):
        raise _invalid(
            f"template.type must be {constants.TEMPLATE_QA_BUTTON_CARD} or {constants.TEMPLATE_QA_LINK_CARD}."
        )
    title = value.get("title")
    if not isinstance(title, str) or not title:
        raise _invalid("template.title is required.")
    if len(title) > constants.MAX_TEXT_WITH_BUTTONS:
        raise _invalid(f"template.title is longer than {constants.MAX_TEXT_WITH_BUTTONS} characters.")
    buttons = value.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= constants.MAX_BUTTONS:
        raise _invalid(f"template.buttons must hold 1 to {constants.MAX_BUTTONS} buttons.")
    limit = (
        constants.MAX_CALLBACK_BUTTON_TEXT
        if card == constants.TEMPLATE_QA_BUTTON_CARD
        else constants.MAX_URL_BUTTON_TEXT
    )
    for index, button in enumerate(buttons):
        if not isinstance(button, dict) or button.get("type") != constants.BUTTON_TYPE_REPLY:
            raise _invalid(f"template.buttons[{index}].type must be {constants.BUTTON_TYPE_REPLY}.")
        if not isinstance(button.get("title"), str) or not button["title"]:
            raise _invalid(f"template.buttons[{index}].title is required.")
        if len(button["title"]) > limit:
            raise _invalid(f"template.buttons[{index}].title is longer than {limit} characters on {card}.")
        if not isinstance(button.get("id"), str) or not button["id"]:
            raise _invalid(f"template.buttons[{index}].id is required.")
        if len(button["id"]) > constants.MAX_BUTTON_ID_LENGTH:
            raise _invalid(f"template.buttons[{index}].id is longer than {constants.MAX_BUTTON_ID_LENGTH} characters.")
    return {"type": card, "title": title, "buttons": [dict(b) for b in buttons]}


def _image(sandbox: SandboxCore, account: Account, conversation: Conversation, value: Any) -> dict:
    if not isinstance(value, dict) or not value.get("media_id"):
        raise _invalid("image.media_id is required.")
    media = sandbox.state.media.get(str(value["media_id"]))
    ttl_seconds = constants.MEDIA_ID_TTL_DAYS * 86_400
    if media is None or media.business_id != account.business_id:
        raise _invalid("image.media_id does not exist for this business_id.")
    if media.created_at + ttl_seconds <= sandbox.state.clock.now():
        raise _invalid("image.media_id has expired.")
    if not sandbox.state.users[conversation.user_id].image_send:
        raise ApiError(constants.CODE_DM_RULES, "IMAGE_SEND is not available in this conversation.")
    return {"media_id": media.media_id}


TYPE_KEYS = {
    constants.MESSAGE_TYPE_TEXT: "text",
    constants.MESSAGE_TYPE_IMAGE: "image",
    constants.MESSAGE_TYPE_TEMPLATE: "template",
    constants.MESSAGE_TYPE_SENDER_ACTION: "sender_action",
    constants.MESSAGE_TYPE_SHARE_POST: "share_post",
}


def _share_post(sandbox: SandboxCore, account: Account, value: Any) -> dict:
    if not isinstance(value, dict) or not value.get("item_id"):
        raise _invalid("share_post.item_id is required.")
    return {"item_id": own_post(sandbox, account, value["item_id"]).item_id}


def check_window(conversation: Conversation, *, now_ms: int, quota: bool = True) -> None:
    """§6: after each user message, at most 10 business messages within 48 hours (API and app sends alike).
    Sender actions (typing, mark read) need the open window but use no quota."""
    last = conversation.last_user_message()
    if last is None:
        raise ApiError(constants.CODE_DM_RULES, "The user has not written to the business: it cannot write first.")
    if now_ms - last.timestamp_ms >= WINDOW_MS:
        raise ApiError(constants.CODE_DM_RULES, "The 48-hour window after the user's last message has closed.")
    if quota and conversation.business_messages_since(last.timestamp_ms) >= constants.WINDOW_MAX_MESSAGES:
        raise ApiError(
            constants.CODE_DM_RULES,
            f"{constants.WINDOW_MAX_MESSAGES} messages were already sent since the user's last message.",
        )


def send(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    state = sandbox.state
    with state.lock:
        account = _messaging(sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_MESSAGE_SEND)
        if body.get("recipient_type") != constants.RECIPIENT_TYPE_CONVERSATION:
            raise _invalid(f"recipient_type must be {constants.RECIPIENT_TYPE_CONVERSATION}.")
        # A comment-to-message reply names the comment, not a conversation: it may write first (direct_reply.py).
        comment = None
        if "direct_reply" in body:
            conversation, comment = comment_reply_target(
                sandbox, account, body["direct_reply"], now_ms=state.clock.now_ms()
            )
        else:
            conversation = _conversation(sandbox, account, body.get("recipient"))
        message_type = body.get("message_type")
        if message_type not in TYPE_KEYS:
            raise _invalid(f"message_type must be one of {', '.join(TYPE_KEYS)}.")
        extra = [key for key in TYPE_KEYS.values() if key in body and key != TYPE_KEYS[message_type]]
        if extra:
            raise _invalid(f"A {message_type} message cannot carry {', '.join(extra)}.")
        now_ms = state.clock.now_ms()
        if message_type == constants.MESSAGE_TYPE_SENDER_ACTION:
            action = body.get("sender_action")
            if action not in (constants.SENDER_ACTION_TYPING, constants.SENDER_ACTION_MARK_READ):
                raise _invalid("sender_action must be TYPING or MARK_READ.")
            check_window(conversation, now_ms=now_ms, quota=False)
            if action == constants.SENDER_ACTION_MARK_READ:
                conversation.business_read_ms = now_ms  # the user sees "Seen" (the /sandbox/ phone view)
            return envelope({})
        if message_type == constants.MESSAGE_TYPE_TEXT:
            content = _text(body.get("text"))
        elif message_type == constants.MESSAGE_TYPE_TEMPLATE:
            content = _template(body.get("template"))
        elif message_type == constants.MESSAGE_TYPE_SHARE_POST:
            content = _share_post(sandbox, account, body.get("share_post"))
        else:
            content = _image(sandbox, account, conversation, body.get("image"))
        if comment is None:
            check_window(conversation, now_ms=now_ms)
        message = Message(
            message_id=state.next_message_id(),
            conversation_id=conversation.conversation_id,
            from_business=True,
            type=TYPE_KEYS[message_type],
            body=content,
            timestamp_ms=now_ms,
            source=constants.SEND_SOURCE_API,
        )
        conversation.messages.append(message)
        if comment is not None:
            comment.dm_reply_message_id = message.message_id
        user = state.users[conversation.user_id]
        echo = events.message_content(account, user, message, as_numbers=sandbox.config.ids_as_numbers)
        echo_mode = sandbox.config.echo_mode
    response = envelope(
        {"message": {"message_id": message.message_id, "conversation_id": conversation.conversation_id}}
    )
    sandbox.emit_after_api_call(constants.EVENT_SEND_MSG, account.business_id, echo, echo_mode=echo_mode)
    return response
