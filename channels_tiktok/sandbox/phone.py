"""What the TikTok user sees of a conversation, as data for the `/sandbox/` page's phone view.

Each message becomes a bubble: the user's own on the right, the business's on the left. A button card
(`QA_BUTTON_CARD`) is a card with up to three buttons, a link card (`QA_LINK_CARD`) the same with link-styled
buttons (they open nothing on TikTok: a tap answers like a button); images, shared videos and other types get
their own bubble. Read marks: "Seen" under the user's last message the business marked read (MARK_READ), and
the user's own last read (`im_mark_read_msg`) under the business message it covers.
"""

from __future__ import annotations

import time
from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox.state import Conversation, Message, SandboxState

CARD_TYPES = (constants.TEMPLATE_QA_BUTTON_CARD, constants.TEMPLATE_QA_LINK_CARD)


def clock(timestamp_ms: int) -> str:
    return time.strftime("%H:%M", time.gmtime(timestamp_ms / 1000))


def bubble(state: SandboxState, message: Message) -> dict[str, Any]:
    """One message as the user's phone draws it."""
    body = message.body or {}
    item: dict[str, Any] = {
        "message_id": message.message_id,
        "mine": not message.from_business,
        "time": clock(message.timestamp_ms),
        "source": message.source,
        "kind": "other",
        "type": message.type,
        "tapped": (message.reply_source or {}).get("reply_source_unique_id", ""),
    }
    if message.type == constants.MSG_TYPE_TEXT:
        item |= {"kind": "text", "text": body.get("body", "")}
    elif message.type == constants.MSG_TYPE_IMAGE:
        item |= {"kind": "image", "media_id": body.get("media_id", "")}
    elif message.type == "template" and body.get("type") in CARD_TYPES:
        item |= {
            "kind": "card",
            "link_card": body["type"] == constants.TEMPLATE_QA_LINK_CARD,
            "title": body.get("title", ""),
            "buttons": list(body.get("buttons", [])),
        }
    elif message.type == constants.MSG_TYPE_SHARE_POST:
        video_id = body.get("video_id") or body.get("item_id")  # a user's share, or the business's (share_post)
        video = state.videos.get(str(video_id or ""))
        item |= {"kind": "video", "video_id": video_id, "caption": video.caption if video else ""}
    return item


def conversation_view(state: SandboxState, conversation: Conversation | None) -> list[dict[str, Any]]:
    """The bubbles of a conversation, oldest first, with the read marks set."""
    if conversation is None:
        return []
    bubbles = [bubble(state, m) for m in conversation.messages]
    seen = [
        b
        for b, m in zip(bubbles, conversation.messages, strict=True)
        if b["mine"] and m.timestamp_ms <= conversation.business_read_ms
    ]
    if seen:
        seen[-1]["seen"] = True
    read = [
        b
        for b, m in zip(bubbles, conversation.messages, strict=True)
        if not b["mine"] and m.timestamp_ms <= conversation.last_read_ms
    ]
    if read:
        read[-1]["read_by_user"] = clock(conversation.last_read_ms)
    return bubbles
