"""TikTok's automatic messages from the business's side: review an item, and TikTok sending one to a user
(an `im_send_msg` echo carrying `auto_message_type`, not counted against the window)."""

from __future__ import annotations

from channels_tiktok import constants
from channels_tiktok.sandbox import events
from channels_tiktok.sandbox.control.common import ControlError, _account, _user, delivery_result
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Message


def review_auto_message(sandbox: SandboxCore, *, auto_message_id: str, status: str = "APPROVED") -> dict:
    """TikTok's review of an automatic message ends: APPROVED or REJECTED (REVIEWING puts it back)."""
    if status not in constants.AUTO_REVIEW_STATUSES:
        raise ControlError(f"status must be one of {', '.join(constants.AUTO_REVIEW_STATUSES)}.")
    with sandbox.state.lock:
        item = sandbox.auto_messages.get(str(auto_message_id))
        if item is None:
            raise ControlError("No such auto message.")
        item.audit_status = status
        return item.as_dict(sandbox.state.clock.now())


def _auto_text(item) -> str:
    if item.type == constants.AUTO_SUGGESTED_QUESTION:
        return item.fields["answer"]
    return item.fields["content"]


def auto_message_sends(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    auto_message_type: str = constants.AUTO_WELCOME,
    text: str | None = None,
    deliver: str = "sync",
) -> dict:
    """TikTok answers the user with the account's automatic message of that type (its first approved item, or
    `text`; `AUTO_REPLY` needs `text`). The echo carries `auto_message_type`; the window is not used."""
    if auto_message_type not in constants.AUTO_MESSAGE_ECHO_TYPES:
        raise ControlError(f"auto_message_type must be one of {', '.join(constants.AUTO_MESSAGE_ECHO_TYPES)}.")
    state = sandbox.state
    with state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = state.conversation(account_obj.business_id, user_obj.unique_identifier, create=False)
        if conversation is None:
            raise ControlError("The user has not written to this account.")
        if text is None:
            now = state.clock.now()
            item = next(
                (
                    i
                    for i in sorted(sandbox.auto_messages.values(), key=lambda i: i.order)
                    if i.business_id == account_obj.business_id
                    and i.type == auto_message_type
                    and i.status(now) == constants.AUTO_REVIEW_APPROVED
                ),
                None,
            )
            if item is None:
                raise ControlError(f"The account has no approved {auto_message_type} item.")
            text = _auto_text(item)
        last_ms = conversation.messages[-1].timestamp_ms if conversation.messages else 0
        message = Message(
            state.next_message_id(),
            conversation.conversation_id,
            True,
            constants.MSG_TYPE_TEXT,
            {"body": text},
            max(state.clock.now_ms(), last_ms + 1),
            source=constants.SEND_SOURCE_APP,
            counts_for_window=False,
        )
        conversation.messages.append(message)
        content = events.message_content(account_obj, user_obj, message, as_numbers=sandbox.config.ids_as_numbers)
        content["auto_message_type"] = auto_message_type
    delivery = sandbox.emit(constants.EVENT_SEND_MSG, account_obj.business_id, content, mode=deliver)
    return {"message_id": message.message_id, "content": content, "delivery": delivery_result(delivery)}
