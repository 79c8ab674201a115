"""Reading conversations: the IMAGE_SEND capability, the conversation list and a conversation's messages."""

from __future__ import annotations

from channels_tiktok import constants
from channels_tiktok.sandbox.api.common import _conversation, _int, _invalid, _json_array, _messaging
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.events import rest_participant, rest_party
from channels_tiktok.sandbox.state import ROLE_BUSINESS, ROLE_PERSONAL, Account, Conversation, Message
from channels_tiktok.sandbox.wire import Request, Response, envelope

CONVERSATION_HISTORY_MS = 90 * 24 * 3600 * 1000  # conversation/list covers the last 90 days

CONTENT_LIST_SIZE = 20  # content/list returns the 20 newest messages only


def capabilities(sandbox: SandboxCore, request: Request) -> Response:
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


def conversation_list(sandbox: SandboxCore, request: Request) -> Response:
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


def _message_item(sandbox: SandboxCore, account: Account, conversation: Conversation, message: Message) -> dict:
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


def content_list(sandbox: SandboxCore, request: Request) -> Response:
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
