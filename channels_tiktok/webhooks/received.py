"""Reading one `im_receive_msg` before anything is written: what the user sent, as the bot will be told.

Tolerant of every shape TikTok may send (docs/tiktok-api.md, "As delivered"): any optional field may be missing,
the type may come in upper case, ids may be numbers or strings. Only a delivery with nothing usable in it (no
sender we can name and no conversation we know) is an outcome of its own; everything else reaches the bot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from channels_tiktok import constants
from channels_tiktok.models import Conversation, WebhookEvent
from channels_tiktok.webhooks import wire
from channels_tiktok.webhooks.inbound import PROCESSED, Inbound, Outcome, id_in, object_of, text_body
from channels_tiktok.webhooks.media import link as media_link
from channels_tiktok.webhooks.placeholders import placeholder
from clients.models import BotEvent, Client, Message

NOTHING_USABLE = "nothing usable: no sender id and no known conversation"


@dataclass
class Received:
    """What one im_receive_msg says, read before anything is written."""

    inbound: Inbound
    message_id: str  # TikTok's id, or `digest:…` when the delivery carries none (wire.message_key)
    conversation_id: str  # "" when TikTok left it out: the message is still told, no window moves
    external_id: str
    username: str
    at: dt.datetime
    variables: dict[str, str]
    kind: str
    text: str
    data: dict[str, Any]
    payload: dict[str, Any]
    outcome: Outcome
    client: Client = field(init=False, repr=False)  # set once the clients are written (direct_messages.py)

    @property
    def is_reaction(self) -> bool:
        """A reaction is not a message: no message row, no window; the bot gets `client.reaction`."""
        return self.kind == constants.MSG_TYPE_REACTION

    @property
    def bot_event_type(self) -> str:
        return BotEvent.Type.CLIENT_REACTION if self.is_reaction else BotEvent.Type.CLIENT_MESSAGE


def message_type(content: dict) -> str:
    """`content.type`, lower case (webhooks send it so; REST lists and some payloads upper case)."""
    value = content.get("type")
    kind = value.strip().lower() if isinstance(value, str) else ""
    if not kind and isinstance(content.get(constants.MSG_TYPE_REACTION), dict):
        kind = constants.MSG_TYPE_REACTION
    return kind


def is_follower(content: dict) -> str | None:
    value = content.get("is_follower")
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, str):
        value = value.strip().lower() in ("true", "1")
    return "True" if value else "False"


def _sender(inbound: Inbound, conversation_id: str) -> str:
    """Who wrote: `unique_identifier`, else `from_user.id`, else the client of the conversation we know."""
    content = inbound.content
    external_id = id_in(content, "unique_identifier") or id_in(content, "from_user", "id")
    if external_id or not conversation_id:
        return external_id
    conversation = (
        Conversation.objects.filter(account=inbound.account, conversation_id=conversation_id)
        .select_related("client")
        .first()
    )
    return conversation.client.external_id if conversation else ""


def share_post(block: dict) -> tuple[str, str]:
    """A shared post's (video id, URL): `video_id` (or `item_id`), else the id in its embed or share URL; ""
    when neither holds one."""
    url = next((block[key] for key in ("embed_url", "share_url", "url") if isinstance(block.get(key), str)), "")
    video_id = id_in(block, "video_id") or id_in(block, "item_id") or wire.video_id_from_url(url)
    return video_id, url.strip()


def reaction(content: dict) -> dict[str, Any]:
    """A reaction's emoji and the message it is about. The shape is not in TikTok's public documentation: the
    `reaction` block's `emoji` (or `reaction`/`text`), its `message_id` (or `reacted_message_id`), else the
    `referenced_message_info` every quoted message carries."""
    block = object_of(content, constants.MSG_TYPE_REACTION)
    emoji = next((block[key] for key in ("emoji", "reaction", "text") if isinstance(block.get(key), str)), "")
    reacted = (
        id_in(block, "message_id")
        or id_in(block, "reacted_message_id")
        or id_in(content, "referenced_message_info", "referenced_message_id")
    )
    action = got if isinstance(got := block.get("action"), str) else ""
    return {"emoji": emoji, "reacted_message_id": reacted, "action": action.lower() or "react"}


def read_received(inbound: Inbound) -> Received | Outcome:
    content = inbound.content
    message_id = wire.message_key(inbound.envelope)
    conversation_id = id_in(content, "conversation_id")
    external_id = _sender(inbound, conversation_id)
    if not external_id:
        return Outcome(WebhookEvent.Status.FAILED, f"im_receive_msg with {NOTHING_USABLE}")
    variables = {constants.VAR_CONVERSATION_ID: conversation_id} if conversation_id else {}
    follower = is_follower(content)
    if follower is not None:
        variables[constants.VAR_IS_FOLLOWER] = follower

    kind_of_message = message_type(content)
    sent_id = "" if message_id.startswith("digest:") else message_id
    data: dict[str, Any] = {"message_id": sent_id, "conversation_id": conversation_id, "type": kind_of_message}
    payload: dict[str, Any] = {"type": kind_of_message, "webhook_event": inbound.event.pk}
    text = ""
    kind: str = Message.Kind.TEXT
    outcome = PROCESSED
    reply_source = object_of(content, "reply_source_payload")
    block = object_of(content, kind_of_message) if kind_of_message else {}
    if kind_of_message == constants.MSG_TYPE_REACTION:
        kind = constants.MSG_TYPE_REACTION
        found = reaction(content)
        text = found["emoji"]
        data.update(
            emoji=found["emoji"], message_id=found["reacted_message_id"], reaction_id=sent_id, action=found["action"]
        )
    elif kind_of_message == constants.MSG_TYPE_TEXT and reply_source:
        # A button tap: the body is the button's text; the unique id is the button id we sent.
        kind = Message.Kind.BUTTON_TAP
        text = text_body(content)
        data["button_id"] = id_in(reply_source, "reply_source_unique_id")
        data["button_message_id"] = id_in(reply_source, "reply_source_msg_id")
    elif kind_of_message == constants.MSG_TYPE_TEXT:
        text = text_body(content)
    elif kind_of_message == constants.MSG_TYPE_SHARE_POST:
        kind = Message.Kind.SHARE_POST
        video_id, url = share_post(block)
        # Without an id anywhere the callback says so, never an empty slot.
        text = f"{constants.CALLBACK_SHARE_POST} {video_id or constants.CALLBACK_UNKNOWN_VIDEO_ID} {url}".strip()
        data.update(video_id=video_id, url=url, video_id_known=bool(video_id))
    elif kind_of_message in constants.MEDIA_MESSAGE_TYPES:
        kind = Message.Kind.IMAGE if kind_of_message == constants.MSG_TYPE_IMAGE else Message.Kind.VIDEO
        reference = dict(inbound.fetched.get(kind_of_message, {"media_id": id_in(block, "media_id")}))
        if reference.get("media_id") and not message_id.startswith("digest:"):
            # Our own link, at once: the copy is made in the background (webhooks/media.py).
            reference["link"] = media_link(channel_id=inbound.channel.pk, message_id=message_id)
        data[kind_of_message] = payload[kind_of_message] = reference
        text = placeholder(kind_of_message)
    elif kind_of_message in (constants.MSG_TYPE_STICKER, constants.MSG_TYPE_EMOJI):
        kind = Message.Kind.STICKER if kind_of_message == constants.MSG_TYPE_STICKER else Message.Kind.EMOJI
        sticker_url = block.get("url")
        data["url"] = sticker_url.strip() if isinstance(sticker_url, str) else ""
        data[kind_of_message] = block
        text = placeholder(kind_of_message)
    else:
        # `template`, `other` and any type TikTok adds later: the kind, a readable text and the raw block.
        kind = Message.Kind.TEMPLATE if kind_of_message == constants.MSG_TYPE_TEMPLATE else Message.Kind.OTHER
        if block:
            data[kind_of_message or constants.MSG_TYPE_OTHER] = block
        text = placeholder(kind)
        if kind_of_message not in (constants.MSG_TYPE_TEMPLATE, constants.MSG_TYPE_OTHER):
            outcome = Outcome(WebhookEvent.Status.PROCESSED, f"message type {kind_of_message!r} told as other")
    data["kind"] = kind
    referenced = id_in(content, "referenced_message_info", "referenced_message_id")
    if referenced and kind != constants.MSG_TYPE_REACTION:
        data["referenced_message_id"] = referenced
    payload.update({key: value for key, value in data.items() if key not in ("message_id", "type", "kind")})
    username = got if isinstance(got := content.get("from"), str) else ""
    return Received(
        inbound=inbound,
        message_id=message_id,
        conversation_id=conversation_id,
        external_id=external_id,
        # TikTok names the user only in some payloads; a "name" that is the id itself is none.
        username=username if username != external_id else "",
        at=inbound.at(),
        variables=variables,
        kind=kind,
        text=text,
        data=data,
        payload=payload,
        outcome=outcome,
    )
