"""TikTok Business API calls beyond plain messages: sender actions, comment moderation, automatic messages.

A mixin of `TikTokClient` (client.py holds the transport): each method is one endpoint and goes through
`self._request`, so it waits for the app's rate limiter and raises `TikTokError` like every other call.
"""

from __future__ import annotations

from typing import Any

from channels_tiktok import constants


class BusinessFeaturesMixin:
    _request: Any  # provided by TikTokClient

    # ------------------------------------------------------------------------------ sender actions
    def send_sender_action(self, *, business_id: str, conversation_id: str, action: str) -> dict:
        """`TYPING` or `MARK_READ` in the conversation: not a message, no window slot (needs the open window)."""
        return self._request(
            "POST",
            constants.PATH_MESSAGE_SEND,
            json_body={
                "business_id": business_id,
                "recipient_type": constants.RECIPIENT_TYPE_CONVERSATION,
                "recipient": conversation_id,
                "message_type": constants.MESSAGE_TYPE_SENDER_ACTION,
                "sender_action": action,
            },
        )
