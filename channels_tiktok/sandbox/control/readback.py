"""Reading back what TikTok's side holds: webhook deliveries, conversations, what the account sent, comments,
the whole state.
"""

from __future__ import annotations

from channels_tiktok.sandbox.api.videos import comment_item
from channels_tiktok.sandbox.control.common import _account, _user
from channels_tiktok.sandbox.core import SandboxCore


def deliveries(sandbox: SandboxCore, *, event: str | None = None, business_id: str | None = None) -> dict:
    with sandbox.state.lock:
        rows = [
            d.summary()
            for d in sandbox.state.deliveries
            if (event is None or d.event == event) and (business_id is None or d.business_id == business_id)
        ]
    return {"deliveries": rows}


def messages(sandbox: SandboxCore, *, account: str = "sbx-acct-mx-001", user: str = "sbx-user-lucia") -> dict:
    """The conversation as TikTok holds it (oldest first): what the user and the business wrote."""
    with sandbox.state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = sandbox.state.conversation(account_obj.business_id, user_obj.unique_identifier, create=False)
        if conversation is None:
            return {"conversation_id": None, "messages": []}
        return {"conversation_id": conversation.conversation_id, "messages": [vars(m) for m in conversation.messages]}


def sent_messages(sandbox: SandboxCore, *, account: str = "sbx-acct-mx-001", user: str | None = None) -> dict:
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


def comments(sandbox: SandboxCore, *, video_id: str | None = None) -> dict:
    with sandbox.state.lock:
        rows = [
            comment_item(sandbox, c)
            for c in sandbox.state.comments.values()
            if video_id is None or c.video_id == str(video_id)
        ]
    return {"comments": rows}


def api_calls(sandbox: SandboxCore, *, path: str | None = None) -> dict:
    """The Business API requests the sandbox received (oldest first), optionally for one path."""
    with sandbox.state.lock:
        rows = [dict(c) for c in sandbox.api_calls if path is None or c["path"] == path]
    return {"calls": rows}


def state(sandbox: SandboxCore) -> dict:
    return sandbox.state.snapshot()
