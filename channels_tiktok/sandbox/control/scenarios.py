"""The user's side of TikTok: a user writes, sends an image or a sticker, shares a video, taps a button of a
card, comments, reads the conversation; and a person answers from the TikTok app. Each emits the webhook
TikTok would send and returns it with its delivery.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox import events
from channels_tiktok.sandbox.api.media import image_type
from channels_tiktok.sandbox.api.messages import check_window
from channels_tiktok.sandbox.control.common import (
    TINY_MP4,
    TINY_PNG,
    ControlError,
    _account,
    _user,
    _video,
    delivery_result,
)
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Conversation, Message
from channels_tiktok.sandbox.wire import ApiError


def _user_message(
    sandbox: SandboxCore,
    *,
    account: Any,
    user: Any,
    type_: str,
    body: dict,
    reply_source: dict | None = None,
    referenced: dict | None = None,
    deliver: str = "sync",
) -> dict:
    state = sandbox.state
    with state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = state.conversation(account_obj.business_id, user_obj.unique_identifier)
        message = Message(
            message_id=state.next_message_id(),
            conversation_id=conversation.conversation_id,
            from_business=False,
            type=type_,
            body=body,
            timestamp_ms=max(state.clock.now_ms(), _last_ms(conversation) + 1),
            reply_source=reply_source,
            referenced=referenced,
        )
        conversation.messages.append(message)
        if user_obj.restricted:
            event, content = constants.EVENT_RECEIVE_MSG_EU, events.restricted_content(account_obj, message)
        else:
            event = constants.EVENT_RECEIVE_MSG
            content = events.message_content(account_obj, user_obj, message, as_numbers=sandbox.config.ids_as_numbers)
    delivery = sandbox.emit(event, account_obj.business_id, content, mode=deliver)
    return {
        "conversation_id": conversation.conversation_id,
        "message_id": message.message_id,
        "event": event,
        "content": content,
        "delivery": delivery_result(delivery),
    }


def _last_ms(conversation: Conversation) -> int:
    """Messages of a conversation get strictly increasing timestamps, so their order is never ambiguous."""
    return conversation.messages[-1].timestamp_ms if conversation.messages else 0


def user_writes(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    text: str,
    deliver: str = "sync",
) -> dict:
    """The user writes a text message (a restricted-region user yields `im_receive_msg_eu`)."""
    return _user_message(
        sandbox, account=account, user=user, type_=constants.MSG_TYPE_TEXT, body={"body": text}, deliver=deliver
    )


def user_sends(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    type: str = "sticker",
    body: dict | None = None,
    quote_message_id: str = "",
    deliver: str = "sync",
) -> dict:
    """Any other message type TikTok knows (`sticker`, `emoji`, `video`, `template`, `other`, ...) with the type's
    object as `body` (default: what TikTok would send: a sticker's or emoji's URL, a video's media id).
    `quote_message_id` makes it a quoted reply (`referenced_message_info`)."""
    if body is None:
        body = defaults_for(sandbox, account, type)
    referenced = {"referenced_message_id": str(quote_message_id)} if quote_message_id else None
    return _user_message(
        sandbox, account=account, user=user, type_=type, body=body, referenced=referenced, deliver=deliver
    )


def defaults_for(sandbox: SandboxCore, account: Any, type_: str) -> dict:
    """The block TikTok sends for a message of `type_` when the caller gave none."""
    if type_ == constants.MSG_TYPE_VIDEO:
        with sandbox.state.lock:
            media = sandbox.add_media(_account(sandbox, account).business_id, TINY_MP4, "video/mp4")
        return {"media_id": media.media_id}
    if type_ in (constants.MSG_TYPE_STICKER, constants.MSG_TYPE_EMOJI):
        return {"url": f"https://p16-im-{type_}.tiktokcdn.com/sandbox/{type_}-{sandbox.state.next_message_id()}.png"}
    if type_ == constants.MSG_TYPE_TEMPLATE:
        return {"title": "Menu", "buttons": []}
    return {}


def restricted_user_writes(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-hans",
    text: str = "Hallo",
    deliver: str = "sync",
) -> dict:
    """A user in the EEA/CH/UK (default: Hans, DE) writes: TikTok delivers `im_receive_msg_eu` without content."""
    if not _user(sandbox, user).restricted:
        raise ControlError(f"User {user!r} is not in a restricted region.")
    return user_writes(sandbox, account=account, user=user, text=text, deliver=deliver)


def user_sends_image(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    image_base64: str | None = None,
    deliver: str = "sync",
) -> dict:
    """The user sends an image (default: a 1x1 PNG); its media_id is downloadable through media/download."""
    try:
        content = base64.b64decode(image_base64, validate=True) if image_base64 else TINY_PNG
    except (binascii.Error, ValueError) as exc:
        raise ControlError("image_base64 is not valid base64.") from exc
    with sandbox.state.lock:
        business_id = _account(sandbox, account).business_id
        media = sandbox.add_media(business_id, content, image_type(content) or "application/octet-stream")
    result = _user_message(
        sandbox,
        account=account,
        user=user,
        type_=constants.MSG_TYPE_IMAGE,
        body={"media_id": media.media_id},
        deliver=deliver,
    )
    return result | {"media_id": media.media_id}


def user_shares_video(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    video_id: str | None = None,
    deliver: str = "sync",
) -> dict:
    """The user shares a video into the conversation (default: the account's newest video)."""
    with sandbox.state.lock:
        if video_id is None:
            video_id = _video(sandbox, account, None).item_id
        video_id = str(video_id)
        embed_url = f"https://www.tiktok.com/embed/v2/{video_id}"
    result = _user_message(
        sandbox,
        account=account,
        user=user,
        type_=constants.MSG_TYPE_SHARE_POST,
        body={"video_id": video_id, "embed_url": embed_url},
        deliver=deliver,
    )
    return result | {"video_id": video_id, "embed_url": embed_url}


def user_taps_button(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    button_id: str | None = None,
    button_title: str | None = None,
    message_id: str | None = None,
    deliver: str = "sync",
) -> dict:
    """The user taps a button of a card the business sent (the newest card with that button, or `message_id`'s).
    TikTok sends the button title as text with `reply_source_payload{reply_source_msg_id, reply_source_unique_id}`."""
    with sandbox.state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = sandbox.state.conversation(account_obj.business_id, user_obj.unique_identifier, create=False)
        cards = [m for m in reversed(conversation.messages) if m.type == "template"] if conversation else []
        for card in cards:
            if message_id and card.message_id != str(message_id):
                continue
            for button in card.body["buttons"]:
                if (button_id is None or button["id"] == button_id) and (
                    button_title is None or button["title"] == button_title
                ):
                    reply_source = {"reply_source_msg_id": card.message_id, "reply_source_unique_id": button["id"]}
                    return _user_message(
                        sandbox,
                        account=account,
                        user=user,
                        type_=constants.MSG_TYPE_TEXT,
                        body={"body": button["title"]},
                        reply_source=reply_source,
                        deliver=deliver,
                    )
    raise ControlError("No card with such a button was sent to this user.")


def user_comments(
    sandbox: SandboxCore,
    *,
    user: str = "sbx-user-lucia",
    video_id: str | None = None,
    text: str,
    account: str = "sbx-acct-mx-001",
    parent_comment_id: str = "",
    deliver: str = "sync",
) -> dict:
    """The user comments on a video (default: `account`'s newest); the video's owner gets `comment.update`."""
    state = sandbox.state
    with state.lock:
        user_obj = _user(sandbox, user)
        video = _video(sandbox, account, video_id)
        if parent_comment_id and str(parent_comment_id) not in state.comments:
            raise ControlError(f"Unknown comment: {parent_comment_id!r}")
        comment = state.add_comment(video, user_obj, text, parent_comment_id=parent_comment_id)
        content = events.comment_content(
            comment,
            constants.COMMENT_ACTION_INSERT,
            timestamp_ms=state.clock.now_ms(),
            as_numbers=sandbox.config.ids_as_numbers,
        )
    delivery = sandbox.emit(constants.EVENT_COMMENT_UPDATE, video.business_id, content, mode=deliver)
    return {
        "comment_id": comment.comment_id,
        "video_id": video.item_id,
        "content": content,
        "delivery": delivery_result(delivery),
    }


def comment_action(sandbox: SandboxCore, *, comment_id: str, action: str, deliver: str = "sync") -> dict:
    """Something happens to a comment (`delete`, `set_to_hidden`, `set_to_friends_only`, `set_to_public`)."""
    actions = {
        constants.COMMENT_ACTION_DELETE: "DELETED",
        constants.COMMENT_ACTION_HIDDEN: "HIDDEN",
        constants.COMMENT_ACTION_FRIENDS_ONLY: "FRIENDS_ONLY",
        constants.COMMENT_ACTION_PUBLIC: "PUBLIC",
    }
    if action not in actions:
        raise ControlError(f"action must be one of {', '.join(actions)}")
    with sandbox.state.lock:
        comment = sandbox.state.comments.get(str(comment_id))
        if comment is None:
            raise ControlError(f"Unknown comment: {comment_id!r}")
        comment.status = actions[action]
        if action == constants.COMMENT_ACTION_DELETE:
            del sandbox.state.comments[comment.comment_id]
        content = events.comment_content(
            comment, action, timestamp_ms=sandbox.state.clock.now_ms(), as_numbers=sandbox.config.ids_as_numbers
        )
    delivery = sandbox.emit(constants.EVENT_COMMENT_UPDATE, comment.business_id, content, mode=deliver)
    return {"comment_id": comment.comment_id, "content": content, "delivery": delivery_result(delivery)}


def user_reads(
    sandbox: SandboxCore, *, account: str = "sbx-acct-mx-001", user: str = "sbx-user-lucia", deliver: str = "sync"
) -> dict:
    """The user opens the conversation: `im_mark_read_msg` with `read.last_read_timestamp`."""
    with sandbox.state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = sandbox.state.conversation(account_obj.business_id, user_obj.unique_identifier, create=False)
        if conversation is None:
            raise ControlError("There is no conversation between this user and account.")
        conversation.last_read_ms = sandbox.state.clock.now_ms()
        content = events.mark_read_content(account_obj, user_obj, conversation)
    delivery = sandbox.emit(constants.EVENT_MARK_READ, account_obj.business_id, content, mode=deliver)
    return {"conversation_id": conversation.conversation_id, "content": content, "delivery": delivery_result(delivery)}


def operator_writes(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    text: str,
    source: str = constants.SEND_SOURCE_APP,
    deliver: str = "sync",
) -> dict:
    """A person answers from the TikTok app (or web): counts against the window; `im_send_msg` with that source."""
    if source not in (constants.SEND_SOURCE_APP, constants.SEND_SOURCE_WEB):
        raise ControlError("source must be APP or WEB.")
    state = sandbox.state
    with state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = state.conversation(account_obj.business_id, user_obj.unique_identifier, create=False)
        if conversation is None:
            raise ControlError("The user has not written to this account.")
        now_ms = max(state.clock.now_ms(), _last_ms(conversation) + 1)
        try:
            check_window(conversation, now_ms=now_ms)
        except ApiError as error:
            raise ControlError(error.message, code=error.code) from error
        message = Message(
            state.next_message_id(),
            conversation.conversation_id,
            True,
            constants.MSG_TYPE_TEXT,
            {"body": text},
            now_ms,
            source=source,
        )
        conversation.messages.append(message)
        content = events.message_content(account_obj, user_obj, message, as_numbers=sandbox.config.ids_as_numbers)
    delivery = sandbox.emit(constants.EVENT_SEND_MSG, account_obj.business_id, content, mode=deliver)
    return {
        "conversation_id": conversation.conversation_id,
        "message_id": message.message_id,
        "content": content,
        "delivery": delivery_result(delivery),
    }
