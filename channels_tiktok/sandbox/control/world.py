"""Setting up the world TikTok's side holds: users, accounts, videos, tokens, the clock, webhook subscriptions,
the sandbox's configuration, injected failures, and the webhook deliveries (flush, redeliver, wait).
"""

from __future__ import annotations

import time
from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox import oauth
from channels_tiktok.sandbox.control.common import ControlError, _account, _bool, _user, delivery_result
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.faults import Fault
from channels_tiktok.sandbox.state import Account, User


def create_user(
    sandbox: SandboxCore,
    *,
    username: str,
    display_name: str = "",
    country: str = "MX",
    is_follower: bool = True,
    image_send: bool = True,
    unique_identifier: str | None = None,
) -> dict:
    user = User(
        unique_identifier or f"sbx-user-{username}",
        username,
        display_name or username,
        country.upper(),
        _bool(is_follower),
        _bool(image_send),
    )
    with sandbox.state.lock:
        sandbox.state.users[user.unique_identifier] = user
    return vars(user) | {"restricted": user.restricted}


def set_user(
    sandbox: SandboxCore,
    *,
    user: str,
    country: str | None = None,
    is_follower: bool | None = None,
    image_send: bool | None = None,
    adult: bool | None = None,
) -> dict:
    """Change a user: country (restricted region or not), follower flag, IMAGE_SEND capability, over 18."""
    with sandbox.state.lock:
        user_obj = _user(sandbox, user)
        if country is not None:
            user_obj.country = country.upper()
        if is_follower is not None:
            user_obj.is_follower = _bool(is_follower)
        if image_send is not None:
            user_obj.image_send = _bool(image_send)
        if adult is not None:
            user_obj.adult = _bool(adult)
        return vars(user_obj) | {"restricted": user_obj.restricted}


def set_capability(sandbox: SandboxCore, *, user: str, image_send: bool) -> dict:
    """IMAGE_SEND of every conversation of `user` (capabilities/get answers it, send of an IMAGE enforces it)."""
    return set_user(sandbox, user=user, image_send=image_send)


def create_account(
    sandbox: SandboxCore, *, username: str, country: str = "MX", is_business: bool = True, display_name: str = ""
) -> dict:
    account = Account(f"sbx-acct-{username}", username, display_name or username, _bool(is_business), country.upper())
    with sandbox.state.lock:
        sandbox.state.accounts[account.business_id] = account
    return vars(account)


def set_account(
    sandbox: SandboxCore, *, account: str, country: str | None = None, is_business: bool | None = None
) -> dict:
    with sandbox.state.lock:
        account_obj = _account(sandbox, account)
        if country is not None:
            account_obj.country = country.upper()
        if is_business is not None:
            account_obj.is_business = _bool(is_business)
        return vars(account_obj)


def add_video(sandbox: SandboxCore, *, account: str = "sbx-acct-mx-001", caption: str = "A new video") -> dict:
    with sandbox.state.lock:
        video = sandbox.state.add_video(_account(sandbox, account).business_id, caption)
        return vars(video) | {"share_url": video.share_url, "embed_url": video.embed_url}


def issue_token(
    sandbox: SandboxCore, *, account: str = "sbx-acct-mx-001", scopes: list[str] | str | None = None
) -> dict:
    """Authorise the app for an account without the consent page: TikTok's token data (open_id, scope,
    access_token, refresh_token, expires_in, refresh_token_expires_in, token_type)."""
    if isinstance(scopes, str):
        scopes = [s for s in scopes.split(",") if s]
    with sandbox.state.lock:
        business_id = _account(sandbox, account).business_id
    return oauth.issue_token(sandbox, business_id, tuple(scopes if scopes is not None else constants.ALL_SCOPES))


def expire_token(sandbox: SandboxCore, *, account: str = "sbx-acct-mx-001", which: str = "access") -> dict:
    """Make the account's tokens expire now: `access` (next call: 40102), `refresh` (refresh: 40103) or `both`."""
    if which not in ("access", "refresh", "both"):
        raise ControlError("which must be access, refresh or both.")
    with sandbox.state.lock:
        business_id = _account(sandbox, account).business_id
        now = sandbox.state.clock.now()
        grants = [g for g in sandbox.state.grants if g.business_id == business_id]
        for grant in grants:
            if which in ("access", "both"):
                grant.access_expires_at = min(grant.access_expires_at, now)
            if which in ("refresh", "both"):
                grant.refresh_expires_at = min(grant.refresh_expires_at, now)
    return {"expired": len(grants)}


def advance_clock(sandbox: SandboxCore, *, seconds: float = 0, hours: float = 0) -> dict:
    """Move TikTok's clock forward (tokens, codes, the 48-hour window, timestamps; signatures too)."""
    with sandbox.state.lock:
        sandbox.state.clock.offset += float(seconds) + float(hours) * 3600
        return {"now": sandbox.state.clock.now(), "offset": sandbox.state.clock.offset}


def subscribe(sandbox: SandboxCore, *, callback_url: str, event_types: list[str] | None = None) -> dict:
    """Subscribe the app's webhooks without the API (default: both event types)."""
    with sandbox.state.lock:
        for event_type in event_types or constants.WEBHOOK_EVENT_TYPES:
            if event_type not in constants.WEBHOOK_EVENT_TYPES:
                raise ControlError(f"Unknown event_type: {event_type!r}")
            sandbox.state.subscriptions[event_type] = callback_url
        return dict(sandbox.state.subscriptions)


def configure(sandbox: SandboxCore, **settings: Any) -> dict:
    """Change the sandbox's Config: rate_limit_qps, echo_mode (after/before/manual), retry_attempts,
    retry_backoff_seconds, access_token_ttl, refresh_token_ttl, approved_scopes, redirect_uris, signing_secret,
    ids_as_numbers, delivery_timeout_seconds, app_secrets, variety (webhooks in TikTok's varied real shapes),
    variety_seed."""
    try:
        config = sandbox.configure(**settings)
    except (ValueError, TypeError) as exc:
        raise ControlError(str(exc)) from exc
    return {
        key: getattr(config, key) for key in config.__dataclass_fields__ if key not in ("app_secrets", "signing_secret")
    }


def inject_failure(
    sandbox: SandboxCore,
    *,
    path: str,
    mode: str,
    count: int = 1,
    code: int = constants.CODE_SYSTEM_ERROR,
    status: int = 500,
    delay: float = 0.0,
    after: bool = False,
) -> dict:
    """Fail the next `count` calls of an API path (`business/message/send/`): see `faults.Fault` for the modes."""
    fault = Fault(
        path=path,
        mode=mode,
        remaining=int(count),
        code=int(code),
        status=int(status),
        delay=float(delay),
        after=_bool(after),
    )
    try:
        sandbox.add_fault(fault)
    except ValueError as exc:
        raise ControlError(str(exc)) from exc
    return {"faults": [vars(f) for f in sandbox.faults]}


def clear_failures(sandbox: SandboxCore) -> dict:
    with sandbox.state.lock:
        sandbox.faults.clear()
    return {"faults": []}


def reset(sandbox: SandboxCore) -> dict:
    sandbox.reset()
    return {"reset": True}


def flush_deliveries(sandbox: SandboxCore) -> dict:
    """Deliver every pending webhook now (with `echo_mode=manual` or `deliver=manual`)."""
    return {"deliveries": [delivery_result(d) for d in sandbox.flush_deliveries()]}


def redeliver(sandbox: SandboxCore, *, delivery_id: int, times: int = 1) -> dict:
    """Deliver an event again, as TikTok's at-least-once delivery does: the same body, a fresh signature."""
    with sandbox.state.lock:
        delivery = next((d for d in sandbox.state.deliveries if d.delivery_id == int(delivery_id)), None)
    if delivery is None:
        raise ControlError(f"Unknown delivery: {delivery_id!r}")
    attempts = [sandbox.deliverer.redeliver(delivery) for _ in range(int(times))]
    return {"delivery_id": delivery.delivery_id, "attempts": attempts}


def wait_for_deliveries(sandbox: SandboxCore, *, timeout: float = 5.0) -> dict:
    """Wait until no delivery is pending with attempts left (background echoes and retries), or `timeout`."""
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        with sandbox.state.lock:
            busy = [d for d in sandbox.state.deliveries if d.status == "pending" and d.mode != "manual"]
        if not busy:
            return {"pending": 0}
        time.sleep(0.02)
    return {"pending": len(busy)}
