"""OAuth as TikTok does it (§2): the consent page and the token, refresh, revoke and token-info endpoints.

Consent page `GET /v2/auth/authorize/?client_key&response_type=code&scope=a,b&redirect_uri&state` renders an
HTML form; the form posts back to the same URL with these fields (a test may post them directly):

    client_key, response_type, scope, redirect_uri, state   echoed from the query (hidden inputs)
    account        a seeded business_id, or "new" with `new_username` (and optional `country`, default MX)
    account_type   "business" or "personal": what the chosen account is from now on
    grant          one per scope the person leaves ticked (a subset of `scope`)
    decision       "allow" (302 to redirect_uri?code=..&state=..) or "deny" (?error=access_denied&..)

Before showing anything the page checks `client_key` (unknown: HTTP 400 page), `redirect_uri` (missing or not
registered: HTTP 400 page), `response_type` (not `code`: redirect with `error=unsupported_response_type`) and
every asked scope (one the app is not approved for: redirect with `error=invalid_scope`, whole request fails).
"""

from __future__ import annotations

import html
import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from channels_tiktok import constants
from channels_tiktok.sandbox.state import Account, AuthCode, Grant
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

if TYPE_CHECKING:
    from channels_tiktok.sandbox.app import Sandbox


def _scopes(value: str) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _redirect(redirect_uri: str, **params: str) -> Response:
    parts = urlsplit(redirect_uri)
    query = "&".join(filter(None, [parts.query, urlencode({k: v for k, v in params.items() if v is not None})]))
    return Response.redirect(urlunsplit(parts._replace(query=query)))


def _error_page(message: str) -> Response:
    return Response.html(
        f"<!doctype html><title>TikTok sandbox: authorization error</title>"
        f"<h1>Authorization error</h1><p class='error'>{html.escape(message)}</p>",
        status=400,
    )


def _validate(sandbox: Sandbox, params: dict[str, str]) -> Response | list[str]:
    """The requested scopes, or the answer that ends the flow."""
    config = sandbox.config
    if params.get("client_key") != config.app_id:
        return _error_page("client_key is not a known app.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        return _error_page("redirect_uri is missing.")
    if config.redirect_uris and redirect_uri not in config.redirect_uris:
        return _error_page("redirect_uri is not registered for this app.")
    state = params.get("state")
    if params.get("response_type") != "code":
        return _redirect(
            redirect_uri, error="unsupported_response_type", error_description="response_type must be code", state=state
        )
    scopes = _scopes(params.get("scope", ""))
    unapproved = [scope for scope in scopes if scope not in config.approved_scopes]
    if not scopes or unapproved:
        description = f"Scope not approved for this app: {','.join(unapproved)}" if unapproved else "No scope"
        return _redirect(redirect_uri, error="invalid_scope", error_description=description, state=state)
    return scopes


def authorize(sandbox: Sandbox, request: Request) -> Response:
    if request.method == "POST":
        form = request.form()
        params = {key: values[-1] for key, values in form.items()}
        checked = _validate(sandbox, params)
        if isinstance(checked, Response):
            return checked
        return _decide(sandbox, params, requested=checked, granted=form.get("grant", []))
    checked = _validate(sandbox, request.query)
    if isinstance(checked, Response):
        return checked
    return Response.html(_consent_html(sandbox, request.query, checked))


def _decide(sandbox: Sandbox, params: dict[str, str], *, requested: list[str], granted: list[str]) -> Response:
    redirect_uri, state = params["redirect_uri"], params.get("state")
    if params.get("decision") != "allow":
        return _redirect(
            redirect_uri, error="access_denied", error_description="The user denied the authorization.", state=state
        )
    with sandbox.state.lock:
        account = _chosen_account(sandbox, params)
        if isinstance(account, Response):
            return account
        if params.get("account_type") in ("business", "personal"):
            account.is_business = params["account_type"] == "business"
        code = AuthCode(
            code=secrets.token_urlsafe(24),
            business_id=account.business_id,
            scopes=tuple(scope for scope in requested if scope in granted),
            redirect_uri=redirect_uri,
            expires_at=sandbox.state.clock.now() + constants.AUTH_CODE_TTL_SECONDS,
        )
        sandbox.state.codes[code.code] = code
    return _redirect(redirect_uri, code=code.code, state=state)


def _chosen_account(sandbox: Sandbox, params: dict[str, str]) -> Account | Response:
    state = sandbox.state
    choice = params.get("account", "")
    if choice != "new":
        return state.account(choice) or _error_page("Choose an account.")
    username = re.sub(r"[^a-z0-9_.]", "", params.get("new_username", "").lower())
    if not username:
        return _error_page("Type a username for the new account.")
    existing = next((a for a in state.accounts.values() if a.username == username), None)
    if existing:
        return existing
    account = Account(
        business_id=f"sbx-acct-{username}",
        username=username,
        display_name=username,
        is_business=params.get("account_type", "business") == "business",
        country=(params.get("country") or "MX").upper(),
    )
    state.accounts[account.business_id] = account
    return account


def _consent_html(sandbox: Sandbox, query: dict[str, str], scopes: list[str]) -> str:
    esc = html.escape
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{esc(query.get(name, ""))}">'
        for name in ("client_key", "response_type", "scope", "redirect_uri", "state")
    )
    with sandbox.state.lock:
        accounts = list(sandbox.state.accounts.values())
    account_rows = "".join(
        f'<li><label><input type="radio" name="account" value="{esc(a.business_id)}"{" checked" if i == 0 else ""}>'
        f" @{esc(a.username)} — {esc(a.display_name)} ({'business' if a.is_business else 'personal'}, "
        f"{esc(a.country)})</label></li>"
        for i, a in enumerate(accounts)
    )
    scope_rows = "".join(
        f'<li><label><input type="checkbox" name="grant" value="{esc(s)}" checked> {esc(s)}</label></li>'
        for s in scopes
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TikTok sandbox: authorize {esc(sandbox.config.app_id)}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}li{{list-style:none;margin:.3em 0}}</style>
</head><body>
<h1>TikTok (sandbox)</h1>
<p><strong>{esc(sandbox.config.app_id)}</strong> wants to access your TikTok account.</p>
<form method="post" action="/v2/auth/authorize/">{hidden}
<fieldset><legend>Log in as</legend><ul>{account_rows}
<li><label><input type="radio" name="account" value="new"> a new account named
<input name="new_username" placeholder="username"> registered in
<input name="country" value="MX" size="2"></label></li></ul></fieldset>
<fieldset><legend>Account type</legend>
<label><input type="radio" name="account_type" value="business" checked> Business account</label>
<label><input type="radio" name="account_type" value="personal"> Personal account</label></fieldset>
<fieldset><legend>Permissions (untick to refuse one)</legend><ul>{scope_rows}</ul></fieldset>
<button name="decision" value="allow">Authorize</button>
<button name="decision" value="deny">Cancel</button>
</form></body></html>"""


# ---------------------------------------------------------------------------------- token endpoints
def _check_client(sandbox: Sandbox, client_id: str | None, client_secret: str | None) -> None:
    if client_id != sandbox.config.app_id or client_secret not in sandbox.config.app_secrets:
        raise ApiError(constants.CODE_NO_PERMISSION, "client_id or client_secret is invalid.")


def _issue(sandbox: Sandbox, business_id: str, scopes: tuple[str, ...]) -> Grant:
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


def token_data(sandbox: Sandbox, grant: Grant) -> dict:
    return {
        "open_id": grant.business_id,
        "scope": ",".join(grant.scopes),
        "access_token": grant.access_token,
        "expires_in": sandbox.config.access_token_ttl,
        "refresh_token": grant.refresh_token,
        "refresh_token_expires_in": sandbox.config.refresh_token_ttl,
        "token_type": "Bearer",
    }


def issue_token(sandbox: Sandbox, business_id: str, scopes: tuple[str, ...]) -> dict:
    """Authorise the app for an account without the consent page (control surface shortcut)."""
    with sandbox.state.lock:
        return token_data(sandbox, _issue(sandbox, business_id, scopes))


def token(sandbox: Sandbox, request: Request) -> Response:
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


def refresh(sandbox: Sandbox, request: Request) -> Response:
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


def revoke(sandbox: Sandbox, request: Request) -> Response:
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


def valid_grant(sandbox: Sandbox, access_token: str) -> Grant:
    """The grant of a usable access token, else 40105 (unknown, revoked) or 40102 (expired)."""
    grant = sandbox.state.grant_for_access(access_token)
    if grant is None or grant.access_revoked:
        raise ApiError(constants.CODE_INVALID_ACCESS_TOKEN, "The access token is invalid or has been revoked.")
    if grant.access_expires_at <= sandbox.state.clock.now():
        raise ApiError(constants.CODE_ACCESS_TOKEN_EXPIRED, "The access token has expired.")
    return grant


def token_info(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    if body.get("app_id") != sandbox.config.app_id:
        raise ApiError(constants.CODE_NO_PERMISSION, "app_id is invalid.")
    with sandbox.state.lock:
        grant = valid_grant(sandbox, str(body.get("access_token") or ""))
        return envelope(
            {"app_id": sandbox.config.app_id, "scope": ",".join(grant.scopes), "creator_id": grant.business_id}
        )
