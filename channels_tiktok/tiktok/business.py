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

    # ------------------------------------------------------------------------------ automatic messages
    def create_auto_message(self, *, business_id: str, auto_message_type: str, fields: dict) -> dict:
        """One item (`fields` as TikTok names them, e.g. `{"question", "answer"}`): `{auto_message_id, ...}`."""
        return self._request(
            "POST",
            constants.PATH_AUTO_MESSAGE_CREATE,
            json_body={
                "business_id": business_id,
                "auto_message_type": auto_message_type,
                constants.AUTO_MESSAGE_BODY_KEYS[auto_message_type]: fields,
            },
        )

    def update_auto_message(
        self, *, business_id: str, auto_message_id: str, auto_message_type: str, fields: dict
    ) -> dict:
        return self._request(
            "POST",
            constants.PATH_AUTO_MESSAGE_UPDATE,
            json_body={
                "business_id": business_id,
                "auto_message_id": auto_message_id,
                "auto_message_type": auto_message_type,
                constants.AUTO_MESSAGE_BODY_KEYS[auto_message_type]: fields,
            },
        )

    def delete_auto_message(self, *, business_id: str, auto_message_id: str) -> dict:
        return self._request(
            "POST",
            constants.PATH_AUTO_MESSAGE_DELETE,
            json_body={"business_id": business_id, "auto_message_id": auto_message_id},
        )

    def sort_auto_messages(self, *, business_id: str, auto_message_type: str, auto_message_ids: list[str]) -> dict:
        return self._request(
            "POST",
            constants.PATH_AUTO_MESSAGE_SORT,
            json_body={
                "business_id": business_id,
                "auto_message_type": auto_message_type,
                "auto_message_ids": list(auto_message_ids),
            },
        )

    def get_auto_messages(self, *, business_id: str) -> dict:
        """Every item with its `audit_status`, and each type's `operation_status`."""
        return self._request("GET", constants.PATH_AUTO_MESSAGE_GET, params={"business_id": business_id})

    def update_auto_message_status(self, *, business_id: str, auto_message_type: str, enabled: bool) -> dict:
        return self._request(
            "POST",
            constants.PATH_AUTO_MESSAGE_STATUS,
            json_body={
                "business_id": business_id,
                "auto_message_type": auto_message_type,
                "operation_status": constants.OPERATION_ENABLE if enabled else constants.OPERATION_DISABLE,
            },
        )

    # ------------------------------------------------------------------------------ comment moderation
    def hide_comment(self, *, business_id: str, video_id: str, comment_id: str, hidden: bool) -> dict:
        return self._request(
            "POST",
            constants.PATH_COMMENT_HIDE,
            json_body={
                "business_id": business_id,
                "video_id": video_id,
                "comment_id": comment_id,
                "action": constants.COMMENT_HIDE if hidden else constants.COMMENT_UNHIDE,
            },
        )

    def like_comment(self, *, business_id: str, comment_id: str, liked: bool) -> dict:
        return self._request(
            "POST",
            constants.PATH_COMMENT_LIKE,
            json_body={
                "business_id": business_id,
                "comment_id": comment_id,
                "action": constants.COMMENT_LIKE if liked else constants.COMMENT_UNLIKE,
            },
        )

    def delete_comment(self, *, business_id: str, comment_id: str) -> dict:
        """Only the business's own comments (its replies) can be deleted; others' can only be hidden."""
        return self._request(
            "POST",
            constants.PATH_COMMENT_DELETE,
            json_body={"business_id": business_id, "comment_id": comment_id},
        )
