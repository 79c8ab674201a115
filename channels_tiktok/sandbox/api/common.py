"""What every endpoint checks: TikTok's parameter formats, the access token, the scope, messaging access."""

from __future__ import annotations

import json
from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.oauth import valid_grant
from channels_tiktok.sandbox.state import Account, Conversation, Grant
from channels_tiktok.sandbox.wire import ApiError, Request


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


def authenticate(
    sandbox: SandboxCore, request: Request, *, business_id: Any, scope: str | None
) -> tuple[Grant, Account]:
    """The `Access-Token` must be valid, belong to `business_id`, and carry `scope`."""
    grant = valid_grant(sandbox, request.headers.get(constants.ACCESS_TOKEN_HEADER.lower(), ""))
    if not business_id:
        raise _invalid("business_id is required.")
    if str(business_id) != grant.business_id:
        raise ApiError(constants.CODE_NO_PERMISSION, "The access token has no permission for this business_id.")
    if scope and scope not in grant.scopes:
        raise ApiError(constants.CODE_NO_PERMISSION, f"The scope {scope} has not been granted by the user.")
    return grant, sandbox.state.accounts[grant.business_id]


def _messaging(sandbox: SandboxCore, request: Request, *, business_id: Any, scope: str) -> Account:
    """Direct messages work only for business accounts registered where the API is open (§8)."""
    _grant, account = authenticate(sandbox, request, business_id=business_id, scope=scope)
    if not account.is_business:
        raise ApiError(constants.CODE_NO_PERMISSION, "Direct messaging is available to business accounts only.")
    if constants.region_available(account.country) is False:
        raise ApiError(constants.CODE_NO_PERMISSION, "Direct messaging is not available in the account's region.")
    return account


def _conversation(sandbox: SandboxCore, account: Account, conversation_id: Any) -> Conversation:
    conversation = sandbox.state.conversations.get(str(conversation_id or ""))
    if conversation is None or conversation.business_id != account.business_id:
        raise ApiError(constants.CODE_NOT_FOUND, "The conversation does not exist.")
    return conversation
