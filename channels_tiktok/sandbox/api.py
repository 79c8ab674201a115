"""The Business API endpoints (§4), each enforcing TikTok's rules on its own side (§6), so the sandbox catches
the product's mistakes instead of repeating them.

Every handler takes `(sandbox, request)` and returns TikTok's envelope or raises `ApiError`. State is changed
under the lock; webhooks are emitted after it is released (a receiver that calls back into the sandbox while
handling the webhook must not deadlock).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from channels_tiktok import constants
from channels_tiktok.sandbox import events
from channels_tiktok.sandbox.events import rest_participant, rest_party
from channels_tiktok.sandbox.oauth import valid_grant
from channels_tiktok.sandbox.state import ROLE_BUSINESS, ROLE_PERSONAL, Account, Comment, Conversation, Grant, Message
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

if TYPE_CHECKING:
    from channels_tiktok.sandbox.app import Sandbox

WINDOW_MS = constants.WINDOW_HOURS * 3600 * 1000
CONVERSATION_HISTORY_MS = 90 * 24 * 3600 * 1000  # conversation/list covers the last 90 days
CONTENT_LIST_SIZE = 20  # content/list returns the 20 newest messages only
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

VIDEO_FIELDS = (
    "item_id",
    "caption",
    "share_url",
    "embed_url",
    "create_time",
    "thumbnail_url",
    "video_views",
    "likes",
    "comments",
    "shares",
)
PROFILE_FIELD_SCOPES = {
    "username": constants.SCOPE_USER_USERNAME,
    "display_name": constants.SCOPE_USER_BASIC,
    "profile_image": constants.SCOPE_USER_BASIC,
    "followers_count": constants.SCOPE_USER_BASIC,
    "is_business_account": constants.SCOPE_USER_ACCOUNT_TYPE,
}


def _invalid(message: str) -> ApiError:
    return ApiError(constants.CODE_INVALID_PARAM_2, message)


def _json_array(value: str | None, name: str) -> list | None:
    """TikTok's array query parameters are JSON-encoded strings (§1)."""
    if value is None or value == "":
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise _invalid(f"{name} must be a JSON array.") from exc
    if not isinstance(parsed, list):
        raise _invalid(f"{name} must be a JSON array.")
    return parsed


def _int(value: Any, name: str, *, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise _invalid(f"{name} must be an integer.") from exc
    if not low <= number <= high:
        raise _invalid(f"{name} must be between {low} and {high}.")
    return number


def authenticate(sandbox: Sandbox, request: Request, *, business_id: Any, scope: str | None) -> tuple[Grant, Account]:
    """The `Access-Token` must be valid, belong to `business_id`, and carry `scope`."""
    grant = valid_grant(sandbox, request.headers.get(constants.ACCESS_TOKEN_HEADER.lower(), ""))
    if not business_id:
        raise _invalid("business_id is required.")
    if str(business_id) != grant.business_id:
        raise ApiError(constants.CODE_NO_PERMISSION, "The access token has no permission for this business_id.")
    if scope and scope not in grant.scopes:
        raise ApiError(constants.CODE_NO_PERMISSION, f"The scope {scope} has not been granted by the user.")
    return grant, sandbox.state.accounts[grant.business_id]


def _messaging(sandbox: Sandbox, request: Request, *, business_id: Any, scope: str) -> Account:
    """Direct messages work only for business accounts registered where the API is open (§8)."""
    _grant, account = authenticate(sandbox, request, business_id=business_id, scope=scope)
    if not account.is_business:
        raise ApiError(constants.CODE_NO_PERMISSION, "Direct messaging is available to business accounts only.")
    if constants.region_available(account.country) is False:
        raise ApiError(constants.CODE_NO_PERMISSION, "Direct messaging is not available in the account's region.")
    return account


def _conversation(sandbox: Sandbox, account: Account, conversation_id: Any) -> Conversation:
    conversation = sandbox.state.conversations.get(str(conversation_id or ""))
    if conversation is None or conversation.business_id != account.business_id:
        raise ApiError(constants.CODE_NOT_FOUND, "The conversation does not exist.")
    return conversation


# ---------------------------------------------------------------------------------- account
def business_get(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    fields = _json_array(query.get("fields"), "fields") or ["username", "display_name", "profile_image"]
    with sandbox.state.lock:
        grant, account = authenticate(sandbox, request, business_id=query.get("business_id"), scope=None)
        data = {}
        for name in fields:
            if name not in PROFILE_FIELD_SCOPES:
                raise _invalid(f"Unknown field: {name}")
            if PROFILE_FIELD_SCOPES[name] not in grant.scopes:
                raise ApiError(
                    constants.CODE_NO_PERMISSION, f"The scope {PROFILE_FIELD_SCOPES[name]} has not been granted."
                )
            data[name] = account.is_business if name == "is_business_account" else getattr(account, name)
    return envelope(data)


# ---------------------------------------------------------------------------------- webhook subscriptions
def _check_app(sandbox: Sandbox, app_id: Any, secret: Any) -> None:
    if app_id != sandbox.config.app_id or secret not in sandbox.config.app_secrets:
        raise ApiError(constants.CODE_NO_PERMISSION, "app_id or secret is invalid.")


def _event_type(value: Any) -> str:
    if value not in constants.WEBHOOK_EVENT_TYPES:
        raise _invalid(f"event_type must be one of {', '.join(constants.WEBHOOK_EVENT_TYPES)}.")
    return value


def webhook_update(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    _check_app(sandbox, body.get("app_id"), body.get("secret"))
    event_type = _event_type(body.get("event_type"))
    callback_url = body.get("callback_url")
    if not isinstance(callback_url, str) or not callback_url.startswith(("http://", "https://")):
        raise _invalid("callback_url must be an http(s) URL.")
    with sandbox.state.lock:
        sandbox.state.subscriptions[event_type] = callback_url
    return envelope({"app_id": sandbox.config.app_id, "event_type": event_type, "callback_url": callback_url})


def webhook_list(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    _check_app(sandbox, query.get("app_id"), query.get("secret"))
    event_type = _event_type(query.get("event_type"))
    with sandbox.state.lock:
        callback_url = sandbox.state.subscriptions.get(event_type, "")
    return envelope({"app_id": sandbox.config.app_id, "event_type": event_type, "callback_url": callback_url})


def webhook_delete(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    _check_app(sandbox, body.get("app_id"), body.get("secret"))
    event_type = _event_type(body.get("event_type"))
    with sandbox.state.lock:
        sandbox.state.subscriptions.pop(event_type, None)
    return envelope({"app_id": sandbox.config.app_id, "event_type": event_type})


# ---------------------------------------------------------------------------------- send
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


def _image(sandbox: Sandbox, account: Account, conversation: Conversation, value: Any) -> dict:
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
}


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


def send(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    state = sandbox.state
    with state.lock:
        account = _messaging(sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_MESSAGE_SEND)
        if body.get("recipient_type") != constants.RECIPIENT_TYPE_CONVERSATION:
            raise _invalid(f"recipient_type must be {constants.RECIPIENT_TYPE_CONVERSATION}.")
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
            return envelope({})
        if message_type == constants.MESSAGE_TYPE_TEXT:
            content = _text(body.get("text"))
        elif message_type == constants.MESSAGE_TYPE_TEMPLATE:
            content = _template(body.get("template"))
        else:
            content = _image(sandbox, account, conversation, body.get("image"))
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
        user = state.users[conversation.user_id]
        echo = events.message_content(account, user, message, as_numbers=sandbox.config.ids_as_numbers)
        echo_mode = sandbox.config.echo_mode
    response = envelope({"message": {"message_id": message.message_id}})
    sandbox.emit_after_api_call(constants.EVENT_SEND_MSG, account.business_id, echo, echo_mode=echo_mode)
    return response


# ---------------------------------------------------------------------------------- media
def media_upload(sandbox: Sandbox, request: Request) -> Response:
    if request.content_type != "multipart/form-data":
        raise _invalid("The request must be multipart/form-data.")
    fields = request.multipart()
    business_id = fields.get("business_id", (None, b""))[1].decode()
    media_type = fields.get("media_type", (None, b""))[1].decode()
    with sandbox.state.lock:
        account = _messaging(sandbox, request, business_id=business_id, scope=constants.SCOPE_MESSAGE_SEND)
        if media_type != constants.MEDIA_TYPE_IMAGE:
            raise _invalid(f"media_type must be {constants.MEDIA_TYPE_IMAGE}.")
        if "file" not in fields:
            raise _invalid("file is required.")
        content = fields["file"][1]
        if len(content) > constants.MAX_IMAGE_BYTES:
            raise ApiError(constants.CODE_FILE_TOO_LARGE, "The file is larger than 3 MB.")
        content_type = image_type(content)
        if content_type is None:
            raise ApiError(constants.CODE_UNSUPPORTED_FILE_TYPE, "Only JPG and PNG images are supported.")
        media = sandbox.add_media(account.business_id, content, content_type)
    return envelope({"media_id": media.media_id})


def image_type(content: bytes) -> str | None:
    """The MIME type by magic bytes (not by file name or declared type), or None if not JPG/PNG."""
    if content.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if content.startswith(PNG_MAGIC):
        return "image/png"
    return None


def media_download(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _messaging(sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_MESSAGE_READ)
        conversation = _conversation(sandbox, account, body.get("conversation_id"))
        if body.get("media_type") != constants.MEDIA_TYPE_IMAGE:
            raise _invalid(f"media_type must be {constants.MEDIA_TYPE_IMAGE}.")
        message = next((m for m in conversation.messages if m.message_id == str(body.get("message_id"))), None)
        if message is None or message.type != constants.MSG_TYPE_IMAGE:
            raise ApiError(constants.CODE_NOT_FOUND, "The message does not exist or holds no image.")
        if message.body.get("media_id") != body.get("media_id"):
            raise ApiError(constants.CODE_NOT_FOUND, "The media does not belong to this message.")
    return envelope({"download_url": f"{request_base_url(request)}/sandbox/media/{message.body['media_id']}/"})


def request_base_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.environ.get('SERVER_NAME')}:{request.environ.get('SERVER_PORT')}"
    return f"http://{host}"


def media_file(sandbox: Sandbox, request: Request, media_id: str) -> Response:
    """The download URL: needs `x-user: <access token>` of the media's account, like TikTok's."""
    with sandbox.state.lock:
        media = sandbox.state.media.get(media_id)
        token = request.headers.get(constants.MEDIA_DOWNLOAD_USER_HEADER, "")
        try:
            grant = valid_grant(sandbox, token)
        except ApiError:
            grant = None
        if media is None:
            return Response.text("not found", status=404)
        if grant is None or grant.business_id != media.business_id:
            return Response.text("forbidden: x-user must carry the account's access token", status=403)
    return Response(status=200, body=media.content, content_type=media.content_type)


# ---------------------------------------------------------------------------------- conversations
def capabilities(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        account = _messaging(
            sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_MESSAGE_MANAGE
        )
        types = _json_array(query.get("capability_types"), "capability_types")
        if not types or any(t != constants.CAPABILITY_IMAGE_SEND for t in types):
            raise _invalid(f'capability_types must be ["{constants.CAPABILITY_IMAGE_SEND}"].')
        if query.get("conversation_type") not in (
            constants.CONVERSATION_TYPE_SINGLE,
            constants.CONVERSATION_TYPE_STRANGER,
        ):
            raise _invalid("conversation_type must be SINGLE or STRANGER.")
        conversation = _conversation(sandbox, account, query.get("conversation_id"))
        result = sandbox.state.users[conversation.user_id].image_send
    infos = [{"capability_type": constants.CAPABILITY_IMAGE_SEND, "capability_result": result}]
    return envelope({"capability_infos": infos})


def conversation_list(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    state = sandbox.state
    with state.lock:
        account = _messaging(sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_MESSAGE_READ)
        kind = query.get("conversation_type") or constants.CONVERSATION_TYPE_SINGLE
        if kind not in (constants.CONVERSATION_TYPE_SINGLE, constants.CONVERSATION_TYPE_STRANGER):
            raise _invalid("conversation_type must be SINGLE or STRANGER.")
        limit = _int(query.get("limit"), "limit", default=20, low=1, high=50)
        offset = _int(query.get("cursor"), "cursor", default=0, low=0, high=10**9)
        since = state.clock.now_ms() - CONVERSATION_HISTORY_MS
        rows = []
        for conversation in state.conversations.values():
            if conversation.business_id != account.business_id or not conversation.messages:
                continue
            updated = conversation.messages[-1].timestamp_ms
            # STRANGER: message requests, i.e. a non-follower the business never answered.
            stranger = not state.users[conversation.user_id].is_follower and not any(
                m.from_business for m in conversation.messages
            )
            if updated >= since and (kind == constants.CONVERSATION_TYPE_SINGLE or stranger):
                rows.append({"conversation_id": conversation.conversation_id, "update_time": updated})
    rows.sort(key=lambda row: row["update_time"], reverse=True)
    page = rows[offset : offset + limit]
    has_more = offset + limit < len(rows)
    return envelope({"conversations": page, "cursor": str(offset + len(page)), "has_more": has_more})


def _message_item(sandbox: Sandbox, account: Account, conversation: Conversation, message: Message) -> dict:
    """One message of content/list as TikTok's REST lists give it: `message_type` and roles in upper case."""
    user = sandbox.state.users[conversation.user_id]
    business = rest_party(account.business_id, ROLE_BUSINESS)
    person = rest_party(user.unique_identifier, ROLE_PERSONAL)
    item = {
        "message_id": message.message_id,
        "timestamp": message.timestamp_ms,
        "message_type": message.type.upper(),
        "from_user": business if message.from_business else person,
        "to_user": person if message.from_business else business,
    }
    if message.from_business or not user.restricted:
        item[message.type] = dict(message.body)
    if message.from_business:
        item["message_tag"] = {"source": message.source}
    return item


def content_list(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        account = _messaging(sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_MESSAGE_READ)
        conversation = _conversation(sandbox, account, query.get("conversation_id"))
        user = sandbox.state.users[conversation.user_id]
        newest = list(reversed(conversation.messages))[:CONTENT_LIST_SIZE]
        messages = [_message_item(sandbox, account, conversation, m) for m in newest]
        participants = [
            rest_participant(user.unique_identifier, ROLE_PERSONAL, user.username, user.display_name)
            | {"is_follower": user.is_follower},
            rest_participant(account.business_id, ROLE_BUSINESS, account.username, account.display_name),
        ]
    return envelope(
        {"conversation_id": conversation.conversation_id, "messages": messages, "participants": participants}
    )


# ---------------------------------------------------------------------------------- videos and comments
def _video_item(sandbox: Sandbox, video, fields: list[str]) -> dict:
    comments = sum(1 for c in sandbox.state.comments.values() if c.video_id == video.item_id)
    full = {
        "item_id": video.item_id,
        "caption": video.caption,
        "share_url": video.share_url,
        "embed_url": video.embed_url,
        "create_time": video.create_time,
        "thumbnail_url": f"https://p16-sign.tiktokcdn.com/sandbox/{video.item_id}.jpeg",
        "video_views": 1000,
        "likes": 100,
        "comments": comments,
        "shares": 10,
    }
    return {"item_id": video.item_id} | {name: full[name] for name in fields}


def video_list(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        _grant, account = authenticate(
            sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_VIDEO_LIST
        )
        fields = _json_array(query.get("fields"), "fields") or ["item_id", "caption", "share_url", "embed_url"]
        unknown = [name for name in fields if name not in VIDEO_FIELDS]
        if unknown:
            raise _invalid(f"Unknown field(s): {', '.join(map(str, unknown))}")
        max_count = _int(query.get("max_count"), "max_count", default=20, low=1, high=20)
        offset = _int(query.get("cursor"), "cursor", default=0, low=0, high=10**9)
        videos = sorted(
            (v for v in sandbox.state.videos.values() if v.business_id == account.business_id),
            key=lambda v: v.create_time,
            reverse=True,
        )
        page = [_video_item(sandbox, v, fields) for v in videos[offset : offset + max_count]]
    return envelope({"videos": page, "cursor": offset + len(page), "has_more": offset + max_count < len(videos)})


def _own_video(sandbox: Sandbox, account: Account, video_id: Any):
    video = sandbox.state.videos.get(str(video_id or ""))
    if video is None or video.business_id != account.business_id:
        raise ApiError(constants.CODE_NOT_FOUND, "The video does not exist for this business_id.")
    return video


def comment_item(sandbox: Sandbox, comment: Comment) -> dict:
    replies = sum(1 for c in sandbox.state.comments.values() if c.parent_comment_id == comment.comment_id)
    return {
        "comment_id": comment.comment_id,
        "video_id": comment.video_id,
        "user_id": comment.author_id,
        "unique_identifier": comment.author_id,
        "username": comment.username,
        "display_name": comment.display_name,
        "text": comment.text,
        "parent_comment_id": comment.parent_comment_id,
        "create_time": comment.create_time,
        "likes": 0,
        "replies": replies,
        "owner": comment.author_id == comment.business_id,
        "status": comment.status,
    }


def comment_list(sandbox: Sandbox, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        _grant, account = authenticate(
            sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_COMMENT_LIST
        )
        video = _own_video(sandbox, account, query.get("video_id"))
        ids = _json_array(query.get("comment_ids"), "comment_ids")
        wanted = {str(i) for i in ids} if ids else None
        max_count = _int(query.get("max_count"), "max_count", default=20, low=1, high=30)
        offset = _int(query.get("cursor"), "cursor", default=0, low=0, high=10**9)
        comments = sorted(
            (
                c
                for c in sandbox.state.comments.values()
                if c.video_id == video.item_id and (wanted is None or c.comment_id in wanted)
            ),
            key=lambda c: (c.create_time, c.comment_id),
            reverse=True,
        )
        page = [comment_item(sandbox, c) for c in comments[offset : offset + max_count]]
    return envelope({"comments": page, "cursor": offset + len(page), "has_more": offset + max_count < len(comments)})


def comment_reply(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    state = sandbox.state
    with state.lock:
        _grant, account = authenticate(
            sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_COMMENT_MANAGE
        )
        video = _own_video(sandbox, account, body.get("video_id"))
        parent = state.comments.get(str(body.get("comment_id") or ""))
        if parent is None or parent.video_id != video.item_id:
            raise ApiError(constants.CODE_NOT_FOUND, "The comment does not exist on this video.")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _invalid("text is required.")
        if len(text) > constants.MAX_COMMENT_REPLY_LENGTH:
            raise _invalid(f"text is longer than {constants.MAX_COMMENT_REPLY_LENGTH} characters.")
        reply = Comment(
            comment_id=state.next_comment_id(),
            video_id=video.item_id,
            business_id=account.business_id,
            author_id=account.business_id,
            username=account.username,
            display_name=account.display_name,
            text=text,
            create_time=int(state.clock.now()),
            # TikTok nests one level: a reply to a reply hangs under the top comment.
            parent_comment_id=parent.parent_comment_id or parent.comment_id,
        )
        state.comments[reply.comment_id] = reply
        content = events.comment_content(
            reply,
            constants.COMMENT_ACTION_INSERT,
            timestamp_ms=state.clock.now_ms(),
            as_numbers=sandbox.config.ids_as_numbers,
        )
        echo_mode = sandbox.config.echo_mode
        data = comment_item(sandbox, reply)
    response = envelope(data)
    sandbox.emit_after_api_call(constants.EVENT_COMMENT_UPDATE, account.business_id, content, echo_mode=echo_mode)
    return response
