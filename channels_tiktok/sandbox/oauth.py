"""OAuth's token endpoints as TikTok has them (§2): token, refresh (rotating), revoke and token info, and the
access-token check every API call makes. The consent page that hands out the codes is `consent.py`.
"""

from __future__ import annotations

import secrets

from channels_tiktok import constants
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Grant
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope


def _check_client(sandbox: SandboxCore, client_id: str | None, client_secret: str | None) -> None:
    if client_id != sandbox.config.app_id or client_secret not in sandbox.config.app_secrets:
        raise ApiError(constants.CODE_NO_PERMISSION, "client_id or client_secret is invalid.")


def _issue(sandbox: SandboxCore, business_id: str, scopes: tuple[str, ...]) -> Grant:
    now = sandbox.state.clock.now()
    grant = Grant(
        business_id=business_id,
        scopes=scopes,
        access_token="act." + secrets.token_urlsafe(32),
        refresh_token="rft." + secrets.token_urlsafe(32),
        access_expires_at=now + sandbox.config.access_token_ttl,
        refresh_expires_at=now + sandbox.config.refresh_token_ttl,
    )
    sandbox.state.grants.append(grant)
    return grant


def token_data(sandbox: SandboxCore, grant: Grant) -> dict:
    return {
        "open_id": grant.business_id,
        "scope": ",".join(grant.scopes),
        "access_token": grant.access_token,
        "expires_in": sandbox.config.access_token_ttl,
        "refresh_token": grant.refresh_token,
        "refresh_token_expires_in": sandbox.config.refresh_token_ttl,
        "token_type": "Bearer",
    }


def issue_token(sandbox: SandboxCore, business_id: str, scopes: tuple[str, ...]) -> dict:
    """Authorise the app for an account without the consent page (control surface shortcut)."""
    with sandbox.state.lock:
        return token_data(sandbox, _issue(sandbox, business_id, scopes))


def token(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    _check_client(sandbox, body.get("client_id"), body.get("client_secret"))
    if body.get("grant_type") != "authorization_code":
        raise ApiError(constants.CODE_INVALID_PARAM_2, "grant_type must be authorization_code.")
    with sandbox.state.lock:
        code = sandbox.state.codes.get(str(body.get("auth_code") or ""))
        if code is None or code.used or code.expires_at <= sandbox.state.clock.now():
            raise ApiError(constants.CODE_INVALID_PARAM, "auth_code is invalid, expired or already used.")
        code.used = True
        if body.get("redirect_uri") != code.redirect_uri:
            raise ApiError(constants.CODE_INVALID_PARAM, "redirect_uri does not match the authorization request.")
        grant = _issue(sandbox, code.business_id, code.scopes)
        return envelope(token_data(sandbox, grant))


def refresh(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    _check_client(sandbox, body.get("client_id"), body.get("client_secret"))
    if body.get("grant_type") != "refresh_token":
        raise ApiError(constants.CODE_INVALID_PARAM_2, "grant_type must be refresh_token.")
    with sandbox.state.lock:
        old = sandbox.state.grant_for_refresh(str(body.get("refresh_token") or ""))
        if old is None or old.refresh_spent or old.refresh_expires_at <= sandbox.state.clock.now():
            raise ApiError(constants.CODE_REFRESH_TOKEN_EXPIRED, "The refresh token is invalid or has expired.")
        old.refresh_spent = True  # rotation: the old refresh token is spent; its access token lives on
        return envelope(token_data(sandbox, _issue(sandbox, old.business_id, old.scopes)))


def revoke(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    _check_client(sandbox, body.get("client_id"), body.get("client_secret"))
    with sandbox.state.lock:
        grant = sandbox.state.grant_for_access(str(body.get("access_token") or ""))
        if grant is None or grant.access_revoked:
            raise ApiError(constants.CODE_INVALID_ACCESS_TOKEN, "The access token is invalid.")
        for other in sandbox.state.grants:
            if other.business_id == grant.business_id:  # revoking deauthorises the app for the account
                other.access_revoked = other.refresh_spent = True
    return envelope({})


def valid_grant(sandbox: SandboxCore, access_token: str) -> Grant:
    """The grant of a usable access token, else 40105 (unknown, revoked) or 40102 (expired)."""
    grant = sandbox.state.grant_for_access(access_token)
    if grant is None or grant.access_revoked:
        raise ApiError(constants.CODE_INVALID_ACCESS_TOKEN, "The access token is invalid or has been revoked.")
    if grant.access_expires_at <= sandbox.state.clock.now():
        raise ApiError(constants.CODE_ACCESS_TOKEN_EXPIRED, "The access token has expired.")
    return grant


def token_info(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    if body.get("app_id") != sandbox.config.app_id:
        raise ApiError(constants.CODE_NO_PERMISSION, "app_id is invalid.")
    with sandbox.state.lock:
        grant = valid_grant(sandbox, str(body.get("access_token") or ""))
        return envelope(
            {"app_id": sandbox.config.app_id, "scope": ",".join(grant.scopes), "creator_id": grant.business_id}
        )
