"""The account's profile (business/get) and the app's webhook subscriptions."""

from __future__ import annotations

from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox.api.common import _invalid, _json_array, authenticate
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

PROFILE_FIELD_SCOPES = {
    "username": constants.SCOPE_USER_USERNAME,
    "display_name": constants.SCOPE_USER_BASIC,
    "profile_image": constants.SCOPE_USER_BASIC,
    "followers_count": constants.SCOPE_USER_BASIC,
    "is_business_account": constants.SCOPE_USER_ACCOUNT_TYPE,
}


def business_get(sandbox: SandboxCore, request: Request) -> Response:
    query = request.query
    fields = _json_array(query.get("fields"), "fields") or ["username", "display_name", "profile_image"]
    with sandbox.state.lock:
        grant, account = authenticate(sandbox, request, business_id=query.get("business_id"), scope=None)
        data = {}
        for name in fields:
            if name not in PROFILE_FIELD_SCOPES:
                raise _invalid(f"Unknown field: {name}")
            if PROFILE_FIELD_SCOPES[name] not in grant.scopes:
                raise ApiError(
                    constants.CODE_NO_PERMISSION, f"The scope {PROFILE_FIELD_SCOPES[name]} has not been granted."
                )
            data[name] = account.is_business if name == "is_business_account" else getattr(account, name)
    return envelope(data)


# ------------------------------------------------------------- webhook subscriptions


def _check_app(sandbox: SandboxCore, app_id: Any, secret: Any) -> None:
    if app_id != sandbox.config.app_id or secret not in sandbox.config.app_secrets:
        raise ApiError(constants.CODE_NO_PERMISSION, "app_id or secret is invalid.")


def _event_type(value: Any) -> str:
    if value not in constants.WEBHOOK_EVENT_TYPES:
        raise _invalid(f"event_type must be one of {', '.join(constants.WEBHOOK_EVENT_TYPES)}.")
    return value


def webhook_update(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    _check_app(sandbox, body.get("app_id"), body.get("secret"))
    event_type = _event_type(body.get("event_type"))
    callback_url = body.get("callback_url")
    if not isinstance(callback_url, str) or not callback_url.startswith(("http://", "https://")):
        raise _invalid("callback_url must be an http(s) URL.")
    with sandbox.state.lock:
        sandbox.state.subscriptions[event_type] = callback_url
    return envelope({"app_id": sandbox.config.app_id, "event_type": event_type, "callback_url": callback_url})


def webhook_list(sandbox: SandboxCore, request: Request) -> Response:
    query = request.query
    _check_app(sandbox, query.get("app_id"), query.get("secret"))
    event_type = _event_type(query.get("event_type"))
    with sandbox.state.lock:
        callback_url = sandbox.state.subscriptions.get(event_type, "")
    return envelope({"app_id": sandbox.config.app_id, "event_type": event_type, "callback_url": callback_url})


def webhook_delete(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    _check_app(sandbox, body.get("app_id"), body.get("secret"))
    event_type = _event_type(body.get("event_type"))
    with sandbox.state.lock:
        sandbox.state.subscriptions.pop(event_type, None)
    return envelope({"app_id": sandbox.config.app_id, "event_type": event_type})
