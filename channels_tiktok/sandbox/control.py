"""The control surface: what a test or a person does to play the other side of TikTok.

Over HTTP: `POST /sandbox/control/<action>/` with a JSON object of the action's keyword arguments; the answer
is the action's JSON result (HTTP 200), or `{"error": "..."}` with HTTP 400. A form post (the `/sandbox/` page)
redirects back to the page. In Python use `SandboxControl(url)` or, in-process, `sandbox.control` (client.py).

`account` accepts a business_id or a username (`sbx-acct-mx-001`, `taqueria_sandbox`); `user` a
unique_identifier or a username (`sbx-user-lucia`, `lucia.mx`). Actions that emit a webhook deliver it
synchronously (`deliver="sync"`, default) and return `{"delivery": {"status", "http_status", ...}}`;
`deliver="async"` delivers in the background, `deliver="manual"` leaves it pending until `flush_deliveries`.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from channels_tiktok import constants
from channels_tiktok.sandbox import events, oauth
from channels_tiktok.sandbox.api import check_window, comment_item, image_type
from channels_tiktok.sandbox.state import Account, Comment, Conversation, Delivery, Message, User
from channels_tiktok.sandbox.wire import ApiError, BadRequestError, Request, Response

if TYPE_CHECKING:
    from channels_tiktok.sandbox.app import Sandbox

# A 1x1 PNG: what a user "sends" when no image is given.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


# Public sample images for trying image sends by URL (`/sandbox/samples/<name>`): one that TikTok accepts,
# one in a format it refuses (40908) and one a byte over its size limit (40907).
SAMPLES = {
    "sample.png": (TINY_PNG, "image/png"),
    "sample.gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    "too-big.png": (TINY_PNG + b"\x00" * (constants.MAX_IMAGE_BYTES + 1 - len(TINY_PNG)), "image/png"),
}


class ControlError(Exception):
    """A control call that cannot be done (unknown account, no card to tap, closed window, ...): HTTP 400."""

    def __init__(self, message: str, *, code: int | None = None):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------- lookups
def _account(sandbox: Sandbox, value: Any) -> Account:
    value = str(value or "").lstrip("@")
    found = sandbox.state.account(value) or next(
        (a for a in sandbox.state.accounts.values() if a.username == value), None
    )
    if found is None:
        raise ControlError(f"Unknown account: {value!r}")
    return found


def _user(sandbox: Sandbox, value: Any) -> User:
    value = str(value or "").lstrip("@")
    found = sandbox.state.users.get(value) or next(
        (u for u in sandbox.state.users.values() if u.username == value), None
    )
    if found is None:
        raise ControlError(f"Unknown user: {value!r}")
    return found


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


def delivery_result(delivery: Delivery) -> dict:
    last = delivery.attempts[-1] if delivery.attempts else {}
    return {
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "status": delivery.status,
        "http_status": last.get("status"),
        "error": last.get("error", ""),
        "attempts": len(delivery.attempts),
    }


# ---------------------------------------------------------------------------------- the user's side
def _user_message(
    sandbox: Sandbox,
    *,
    account: Any,
    user: Any,
    type_: str,
    body: dict,
    reply_source: dict | None = None,
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
    sandbox: Sandbox,
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
    sandbox: Sandbox,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    type: str = "sticker",
    body: dict | None = None,
    deliver: str = "sync",
) -> dict:
    """Any other message type TikTok knows (`sticker`, `emoji`, `video`, ...) with the type's object as `body`."""
    return _user_message(sandbox, account=account, user=user, type_=type, body=body or {}, deliver=deliver)


def restricted_user_writes(
    sandbox: Sandbox,
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
    sandbox: Sandbox,
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
    sandbox: Sandbox,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    video_id: str | None = None,
    deliver: str = "sync",
) -> dict:
    """The user shares a video into the conversation (default: the account's newest video)."""
    with sandbox.state.lock:
        business_id = _account(sandbox, account).business_id
        if video_id is None:
            own = [v for v in sandbox.state.videos.values() if v.business_id == business_id]
            if not own:
                raise ControlError("The account has no video; pass video_id.")
            video_id = max(own, key=lambda v: v.create_time).item_id
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
    sandbox: Sandbox,
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
    sandbox: Sandbox,
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
        if video_id is None:
            business_id = _account(sandbox, account).business_id
            own = [v for v in state.videos.values() if v.business_id == business_id]
            video_id = max(own, key=lambda v: v.create_time).item_id
        video = state.videos.get(str(video_id))
        if video is None:
            raise ControlError(f"Unknown video: {video_id!r}")
        if parent_comment_id and str(parent_comment_id) not in state.comments:
            raise ControlError(f"Unknown comment: {parent_comment_id!r}")
        comment = Comment(
            comment_id=state.next_comment_id(),
            video_id=video.item_id,
            business_id=video.business_id,
            author_id=user_obj.unique_identifier,
            username=user_obj.username,
            display_name=user_obj.display_name,
            text=text,
            create_time=int(state.clock.now()),
            parent_comment_id=str(parent_comment_id or ""),
        )
        state.comments[comment.comment_id] = comment
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


def comment_action(sandbox: Sandbox, *, comment_id: str, action: str, deliver: str = "sync") -> dict:
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
    sandbox: Sandbox, *, account: str = "sbx-acct-mx-001", user: str = "sbx-user-lucia", deliver: str = "sync"
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
    sandbox: Sandbox,
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


# ---------------------------------------------------------------------------------- the world
def create_user(
    sandbox: Sandbox,
    *,
    username: str,
    display_name: str = "",
    country: str = "MX",
    is_follower: bool = True,
    image_send: bool = True,
    unique_identifier: str | None = None,
) -> dict:
    user = User(
        unique_identifier or f"sbx-user-{username}",
        username,
        display_name or username,
        country.upper(),
        _bool(is_follower),
        _bool(image_send),
    )
    with sandbox.state.lock:
        sandbox.state.users[user.unique_identifier] = user
    return vars(user) | {"restricted": user.restricted}


def set_user(
    sandbox: Sandbox,
    *,
    user: str,
    country: str | None = None,
    is_follower: bool | None = None,
    image_send: bool | None = None,
) -> dict:
    """Change a user: country (restricted region or not), follower flag, IMAGE_SEND capability."""
    with sandbox.state.lock:
        user_obj = _user(sandbox, user)
        if country is not None:
            user_obj.country = country.upper()
        if is_follower is not None:
            user_obj.is_follower = _bool(is_follower)
        if image_send is not None:
            user_obj.image_send = _bool(image_send)
        return vars(user_obj) | {"restricted": user_obj.restricted}


def set_capability(sandbox: Sandbox, *, user: str, image_send: bool) -> dict:
    """IMAGE_SEND of every conversation of `user` (capabilities/get answers it, send of an IMAGE enforces it)."""
    return set_user(sandbox, user=user, image_send=image_send)


def create_account(
    sandbox: Sandbox, *, username: str, country: str = "MX", is_business: bool = True, display_name: str = ""
) -> dict:
    account = Account(f"sbx-acct-{username}", username, display_name or username, _bool(is_business), country.upper())
    with sandbox.state.lock:
        sandbox.state.accounts[account.business_id] = account
    return vars(account)


def set_account(sandbox: Sandbox, *, account: str, country: str | None = None, is_business: bool | None = None) -> dict:
    with sandbox.state.lock:
        account_obj = _account(sandbox, account)
        if country is not None:
            account_obj.country = country.upper()
        if is_business is not None:
            account_obj.is_business = _bool(is_business)
        return vars(account_obj)


def add_video(sandbox: Sandbox, *, account: str = "sbx-acct-mx-001", caption: str = "A new video") -> dict:
    with sandbox.state.lock:
        video = sandbox.state.add_video(_account(sandbox, account).business_id, caption)
        return vars(video) | {"share_url": video.share_url, "embed_url": video.embed_url}


def issue_token(sandbox: Sandbox, *, account: str = "sbx-acct-mx-001", scopes: list[str] | str | None = None) -> dict:
    """Authorise the app for an account without the consent page: TikTok's token data (open_id, scope,
    access_token, refresh_token, expires_in, refresh_token_expires_in, token_type)."""
    if isinstance(scopes, str):
        scopes = [s for s in scopes.split(",") if s]
    with sandbox.state.lock:
        business_id = _account(sandbox, account).business_id
    return oauth.issue_token(sandbox, business_id, tuple(scopes if scopes is not None else constants.ALL_SCOPES))


def expire_token(sandbox: Sandbox, *, account: str = "sbx-acct-mx-001", which: str = "access") -> dict:
    """Make the account's tokens expire now: `access` (next call: 40102), `refresh` (refresh: 40103) or `both`."""
    if which not in ("access", "refresh", "both"):
        raise ControlError("which must be access, refresh or both.")
    with sandbox.state.lock:
        business_id = _account(sandbox, account).business_id
        now = sandbox.state.clock.now()
        grants = [g for g in sandbox.state.grants if g.business_id == business_id]
        for grant in grants:
            if which in ("access", "both"):
                grant.access_expires_at = min(grant.access_expires_at, now)
            if which in ("refresh", "both"):
                grant.refresh_expires_at = min(grant.refresh_expires_at, now)
    return {"expired": len(grants)}


def advance_clock(sandbox: Sandbox, *, seconds: float = 0, hours: float = 0) -> dict:
    """Move TikTok's clock forward (tokens, codes, the 48-hour window, timestamps; signatures too)."""
    with sandbox.state.lock:
        sandbox.state.clock.offset += float(seconds) + float(hours) * 3600
        return {"now": sandbox.state.clock.now(), "offset": sandbox.state.clock.offset}


def subscribe(sandbox: Sandbox, *, callback_url: str, event_types: list[str] | None = None) -> dict:
    """Subscribe the app's webhooks without the API (default: both event types)."""
    with sandbox.state.lock:
        for event_type in event_types or constants.WEBHOOK_EVENT_TYPES:
            if event_type not in constants.WEBHOOK_EVENT_TYPES:
                raise ControlError(f"Unknown event_type: {event_type!r}")
            sandbox.state.subscriptions[event_type] = callback_url
        return dict(sandbox.state.subscriptions)


def configure(sandbox: Sandbox, **settings: Any) -> dict:
    """Change the sandbox's Config: rate_limit_qps, echo_mode (after/before/manual), retry_attempts,
    retry_backoff_seconds, access_token_ttl, refresh_token_ttl, approved_scopes, redirect_uris, signing_secret,
    ids_as_numbers, delivery_timeout_seconds, app_secrets, variety (webhooks in TikTok's varied real shapes),
    variety_seed."""
    try:
        config = sandbox.configure(**settings)
    except (ValueError, TypeError) as exc:
        raise ControlError(str(exc)) from exc
    return {
        key: getattr(config, key) for key in config.__dataclass_fields__ if key not in ("app_secrets", "signing_secret")
    }


def inject_failure(
    sandbox: Sandbox,
    *,
    path: str,
    mode: str,
    count: int = 1,
    code: int = constants.CODE_SYSTEM_ERROR,
    status: int = 500,
    delay: float = 0.0,
    after: bool = False,
) -> dict:
    """Fail the next `count` calls of an API path (`business/message/send/`): see `app.Fault` for the modes."""
    from channels_tiktok.sandbox.app import Fault

    fault = Fault(
        path=path,
        mode=mode,
        remaining=int(count),
        code=int(code),
        status=int(status),
        delay=float(delay),
        after=_bool(after),
    )
    try:
        sandbox.add_fault(fault)
    except ValueError as exc:
        raise ControlError(str(exc)) from exc
    return {"faults": [vars(f) for f in sandbox.faults]}


def clear_failures(sandbox: Sandbox) -> dict:
    with sandbox.state.lock:
        sandbox.faults.clear()
    return {"faults": []}


def reset(sandbox: Sandbox) -> dict:
    sandbox.reset()
    return {"reset": True}


def flush_deliveries(sandbox: Sandbox) -> dict:
    """Deliver every pending webhook now (with `echo_mode=manual` or `deliver=manual`)."""
    return {"deliveries": [delivery_result(d) for d in sandbox.flush_deliveries()]}


def redeliver(sandbox: Sandbox, *, delivery_id: int, times: int = 1) -> dict:
    """Deliver an event again, as TikTok's at-least-once delivery does: the same body, a fresh signature."""
    with sandbox.state.lock:
        delivery = next((d for d in sandbox.state.deliveries if d.delivery_id == int(delivery_id)), None)
    if delivery is None:
        raise ControlError(f"Unknown delivery: {delivery_id!r}")
    attempts = [sandbox.deliverer.redeliver(delivery) for _ in range(int(times))]
    return {"delivery_id": delivery.delivery_id, "attempts": attempts}


def wait_for_deliveries(sandbox: Sandbox, *, timeout: float = 5.0) -> dict:
    """Wait until no delivery is pending with attempts left (background echoes and retries), or `timeout`."""
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        with sandbox.state.lock:
            busy = [d for d in sandbox.state.deliveries if d.status == "pending" and d.mode != "manual"]
        if not busy:
            return {"pending": 0}
        time.sleep(0.02)
    return {"pending": len(busy)}


# ---------------------------------------------------------------------------------- reading back
def deliveries(sandbox: Sandbox, *, event: str | None = None, business_id: str | None = None) -> dict:
    with sandbox.state.lock:
        rows = [
            d.summary()
            for d in sandbox.state.deliveries
            if (event is None or d.event == event) and (business_id is None or d.business_id == business_id)
        ]
    return {"deliveries": rows}


def messages(sandbox: Sandbox, *, account: str = "sbx-acct-mx-001", user: str = "sbx-user-lucia") -> dict:
    """The conversation as TikTok holds it (oldest first): what the user and the business wrote."""
    with sandbox.state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = sandbox.state.conversation(account_obj.business_id, user_obj.unique_identifier, create=False)
        if conversation is None:
            return {"conversation_id": None, "messages": []}
        return {"conversation_id": conversation.conversation_id, "messages": [vars(m) for m in conversation.messages]}


def sent_messages(sandbox: Sandbox, *, account: str = "sbx-acct-mx-001", user: str | None = None) -> dict:
    """Every message the account sent (API and app), oldest first: what TikTok "received" from the product."""
    with sandbox.state.lock:
        business_id = _account(sandbox, account).business_id
        user_id = _user(sandbox, user).unique_identifier if user else None
        rows = [
            vars(m) | {"user_id": c.user_id}
            for c in sandbox.state.conversations.values()
            if c.business_id == business_id and (user_id is None or c.user_id == user_id)
            for m in c.messages
            if m.from_business
        ]
    return {"messages": sorted(rows, key=lambda m: (m["timestamp_ms"], m["message_id"]))}


def comments(sandbox: Sandbox, *, video_id: str | None = None) -> dict:
    with sandbox.state.lock:
        rows = [
            comment_item(sandbox, c)
            for c in sandbox.state.comments.values()
            if video_id is None or c.video_id == str(video_id)
        ]
    return {"comments": rows}


def state(sandbox: Sandbox) -> dict:
    return sandbox.state.snapshot()


ACTIONS = {
    fn.__name__: fn
    for fn in (
        user_writes,
        user_sends,
        restricted_user_writes,
        user_sends_image,
        user_shares_video,
        user_taps_button,
        user_comments,
        comment_action,
        user_reads,
        operator_writes,
        create_user,
        set_user,
        set_capability,
        create_account,
        set_account,
        add_video,
        issue_token,
        expire_token,
        advance_clock,
        subscribe,
        configure,
        inject_failure,
        clear_failures,
        reset,
        flush_deliveries,
        redeliver,
        wait_for_deliveries,
        deliveries,
        messages,
        sent_messages,
        comments,
        state,
    )
}


def run(sandbox: Sandbox, action: str, arguments: dict) -> dict:
    """Run one action with keyword arguments; `ControlError` for anything the caller got wrong."""
    if action not in ACTIONS:
        raise ControlError(f"Unknown action: {action!r}")
    try:
        return ACTIONS[action](sandbox, **arguments)
    except TypeError as exc:
        raise ControlError(f"{action}: {exc}") from exc


# ---------------------------------------------------------------------------------- HTTP
def dispatch(sandbox: Sandbox, request: Request, path: str) -> Response:
    from channels_tiktok.sandbox.api import media_file

    if path == "":
        return Response.html(page(sandbox, request.query.get("flash", "")))
    if path == "state/":
        return Response.json(sandbox.state.snapshot())
    parts = path.split("/")
    if len(parts) == 2 and parts[0] == "samples" and parts[1] in SAMPLES:
        content, content_type = SAMPLES[parts[1]]
        return Response(body=content, content_type=content_type)
    if len(parts) == 3 and parts[0] == "media" and parts[2] == "":
        return media_file(sandbox, request, parts[1])
    if len(parts) == 3 and parts[0] == "control" and parts[2] == "":
        if request.method != "POST":
            return Response.text("405 method not allowed", status=405)
        return _control(sandbox, request, parts[1])
    return Response.text("404 page not found", status=404)


def _control(sandbox: Sandbox, request: Request, action: str) -> Response:
    # The page's forms post url-encoded fields; anything else (also `curl -d '{...}'`) is a JSON object.
    from_form = request.content_type == "application/x-www-form-urlencoded" and not request.body.startswith(b"{")
    if from_form:
        arguments = {key: values[-1] for key, values in request.form().items() if values[-1] != ""}
    else:
        try:
            arguments = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise BadRequestError("The body must be a JSON object.") from exc
        if not isinstance(arguments, dict):
            raise BadRequestError("The body must be a JSON object.")
    try:
        result = run(sandbox, action, arguments)
    except ControlError as error:
        if from_form:
            return Response.redirect("/sandbox/?flash=" + quote(f"{action}: {error}"))
        return Response.json({"error": str(error), "code": error.code}, status=400)
    if from_form:
        summary = result.get("delivery", {}).get("status", "done") if isinstance(result, dict) else "done"
        return Response.redirect("/sandbox/?flash=" + quote(f"{action}: {summary}"))
    return Response.json(result)


def page(sandbox: Sandbox, flash: str) -> str:
    """The human control page: the seeded world and forms to act as a user."""
    esc = html.escape
    snap = sandbox.state.snapshot()
    config = sandbox.config
    account_options = "".join(
        f'<option value="{esc(a["business_id"])}">@{esc(a["username"])}</option>' for a in snap["accounts"]
    )
    user_options = "".join(
        f'<option value="{esc(u["unique_identifier"])}">@{esc(u["username"])} ({esc(u["country"])})</option>'
        for u in snap["users"]
    )
    video_options = "".join(
        f'<option value="{esc(v["item_id"])}">{esc(v["item_id"])} {esc(v["caption"])}</option>' for v in snap["videos"]
    )
    accounts = "".join(
        f"<tr><td>{esc(a['business_id'])}</td><td>@{esc(a['username'])}</td><td>{esc(a['display_name'])}</td>"
        f"<td>{'business' if a['is_business'] else 'personal'}</td><td>{esc(a['country'])}</td>"
        f"<td>{esc(', '.join(a['granted_scopes']) or '—')}</td></tr>"
        for a in snap["accounts"]
    )
    users = "".join(
        f"<tr><td>{esc(u['unique_identifier'])}</td><td>@{esc(u['username'])}</td><td>{esc(u['country'])}"
        f"{' (restricted)' if u['restricted'] else ''}</td><td>{u['is_follower']}</td><td>{u['image_send']}</td></tr>"
        for u in snap["users"]
    )
    conversations = "".join(
        f"<h3>{esc(c['business_id'])} ↔ {esc(c['user_id'])} <code>{esc(c['conversation_id'])}</code></h3><ol>"
        + "".join(
            f"<li>{'→ business' if m['from_business'] else '← user'} [{esc(m['type'])}] "
            f"{esc(json.dumps(m['body'], ensure_ascii=False))} {esc(m['source'])}</li>"
            for m in c["messages"][-20:]
        )
        + "</ol>"
        for c in snap["conversations"]
    )
    deliveries_rows = "".join(
        f"<tr><td>{d['delivery_id']}</td><td>{esc(d['event'])}</td><td>{esc(d['business_id'])}</td>"
        f"<td>{esc(d['status'])}</td><td>{len(d['attempts'])}</td></tr>"
        for d in reversed(snap["deliveries"][-30:])
    )

    def form(action: str, fields: str, label: str) -> str:
        return (
            f'<form method="post" action="/sandbox/control/{action}/"><strong>{esc(label)}</strong> '
            f"{fields} <button>Go</button></form>"
        )

    pick = f'<select name="account">{account_options}</select> <select name="user">{user_options}</select>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TikTok sandbox</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:.2em .5em}}form{{margin:.4em 0}}.flash{{background:#ffd;padding:.5em}}</style></head><body>
<h1>TikTok sandbox</h1>
{f'<p class="flash">{esc(flash)}</p>' if flash else ""}
<p>App <code>{esc(config.app_id)}</code>. API base <code>/open_api/v1.3/</code>, consent page
<code>/v2/auth/authorize/</code>, state as JSON <code>/sandbox/state/</code>, control
<code>POST /sandbox/control/&lt;action&gt;/</code>. Clock offset: {snap["clock_offset"]:.0f} s.
Subscriptions: {esc(json.dumps(snap["subscriptions"]))}</p>
<h2>Act as a user</h2>
{form("user_writes", pick + ' <input name="text" placeholder="message" required>', "Write")}
{form("user_taps_button", pick + ' <input name="button_id" placeholder="button id">', "Tap a button")}
{form("user_shares_video", pick + f' <select name="video_id">{video_options}</select>', "Share a video")}
{form("user_sends_image", pick, "Send an image")}
{form("user_reads", pick, "Read the conversation")}
{
        form(
            "user_comments",
            f'<select name="user">{user_options}</select> <select name="video_id">{video_options}</select>'
            ' <input name="text" placeholder="comment" required>',
            "Comment on a video",
        )
    }
{form("operator_writes", pick + ' <input name="text" placeholder="message" required>', "Answer from the TikTok app")}
{form("advance_clock", '<input name="hours" value="1" size="4"> hours', "Advance the clock")}
<h2>Accounts</h2><table><tr><th>business_id</th><th>username</th><th>name</th><th>type</th><th>country</th>
<th>granted scopes</th></tr>{accounts}</table>
<h2>Users</h2><table><tr><th>unique_identifier</th><th>username</th><th>country</th><th>follower</th>
<th>IMAGE_SEND</th></tr>{users}</table>
<h2>Conversations</h2>{conversations or "<p>None yet: make a user write.</p>"}
<h2>Webhook deliveries (newest first)</h2><table><tr><th>#</th><th>event</th><th>account</th><th>status</th>
<th>attempts</th></tr>{deliveries_rows}</table>
</body></html>"""  # noqa: S608 - HTML, not SQL
