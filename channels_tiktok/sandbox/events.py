"""The `content` documents of TikTok's webhook events (§5), built from the sandbox's state.

Timestamps are milliseconds, enum values lowercase. `unique_identifier` is the stable id of whoever wrote
(the user for `im_receive_msg`, the business for `im_send_msg`, the comment's author for `comment.update`;
so the account's own comment replies carry the ACCOUNT's id). With `Config.ids_as_numbers`, video and comment
ids are sometimes JSON numbers, as TikTok sends them: even ids as numbers, odd ids as strings.
"""

from __future__ import annotations

from channels_tiktok import constants
from channels_tiktok.sandbox.state import ROLE_BUSINESS, ROLE_PERSONAL, Account, Comment, Conversation, Message, User


def tiktok_id(value: str, *, as_numbers: bool) -> int | str:
    return int(value) if as_numbers and value.isdigit() and int(value) % 2 == 0 else value


def _party(account: Account | None = None, user: User | None = None) -> tuple[str, dict]:
    if account is not None:
        return account.username, {"id": account.business_id, "role": ROLE_BUSINESS}
    return user.username, {"id": user.unique_identifier, "role": ROLE_PERSONAL}


def message_content(account: Account, user: User, message: Message, *, as_numbers: bool) -> dict:
    """`im_receive_msg` (user wrote) or `im_send_msg` (business sent) content."""
    sender, recipient = ((account, None), (None, user)) if message.from_business else ((None, user), (account, None))
    from_name, from_user = _party(*sender)
    to_name, to_user = _party(*recipient)
    content: dict = {
        "conversation_id": message.conversation_id,
        "message_id": message.message_id,
        "timestamp": message.timestamp_ms,
        "type": message.type,
        "from": from_name,
        "from_user": from_user,
        "to": to_name,
        "to_user": to_user,
        "unique_identifier": from_user["id"],
    }
    body = dict(message.body)
    if message.type == constants.MSG_TYPE_SHARE_POST and "video_id" in body:
        body["video_id"] = tiktok_id(str(body["video_id"]), as_numbers=as_numbers)
    content[message.type] = body
    if message.from_business:
        content["message_tag"] = {"source": message.source}
    else:
        content["is_follower"] = user.is_follower
    if message.reply_source:
        content["reply_source_payload"] = dict(message.reply_source)
    if message.referenced:
        content["referenced_message_info"] = dict(message.referenced)
    return content


def restricted_content(account: Account, message: Message) -> dict:
    """`im_receive_msg_eu`: TikTok strips everything but the recipient and the time."""
    to_name, to_user = _party(account)
    return {"to": to_name, "to_user": to_user, "timestamp": message.timestamp_ms}


def from_user_to_account(account: Account, user: User) -> dict:
    """The sender and recipient fields of a webhook the user's action sends the account."""
    from_name, from_user = _party(user=user)
    to_name, to_user = _party(account)
    return {"from": from_name, "from_user": from_user, "to": to_name, "to_user": to_user}


def mark_read_content(account: Account, user: User, conversation: Conversation) -> dict:
    return {
        "conversation_id": conversation.conversation_id,
        **from_user_to_account(account, user),
        "timestamp": conversation.last_read_ms,
        "read": {"last_read_timestamp": conversation.last_read_ms},
    }


def comment_content(comment: Comment, action: str, *, timestamp_ms: int, as_numbers: bool) -> dict:
    """`comment.update`: no text (fetch it with comment/list)."""
    return {
        "comment_id": tiktok_id(comment.comment_id, as_numbers=as_numbers),
        "video_id": tiktok_id(comment.video_id, as_numbers=as_numbers),
        "parent_comment_id": comment.parent_comment_id,
        "comment_type": "reply" if comment.parent_comment_id else "comment",
        "comment_action": action,
        "unique_identifier": comment.author_id,
        "timestamp": timestamp_ms,
    }


# ---------------------------------------------------------------------------------- REST list shapes
def rest_party(party_id: str, role: str) -> dict:
    """`from_user`/`to_user` of a REST list item: roles in upper case there (`PERSONAL_ACCOUNT`), unlike webhooks."""
    return {"id": party_id, "role": role.upper()}


def rest_participant(party_id: str, role: str, username: str, display_name: str) -> dict:
    """A participant of content/list: its profile as TikTok gives it (`profile_image`, an expiring URL)."""
    return rest_party(party_id, role) | {
        "username": username,
        "display_name": display_name,
        "profile_image": f"https://p16-sign.tiktokcdn.com/sandbox/avatar/{party_id}.jpeg",
    }
