"""The consent page as TikTok has it (§2); the token endpoints that take its codes are `oauth.py`.

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
from urllib.parse import urlencode, urlsplit, urlunsplit

from channels_tiktok import constants
from channels_tiktok.sandbox import pages
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Account, AuthCode
from channels_tiktok.sandbox.wire import Request, Response


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


def _validate(sandbox: SandboxCore, params: dict[str, str]) -> Response | list[str]:
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


def authorize(sandbox: SandboxCore, request: Request) -> Response:
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
    return Response.html(pages.consent_page(sandbox, request.query, checked))


def _decide(sandbox: SandboxCore, params: dict[str, str], *, requested: list[str], granted: list[str]) -> Response:
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


def _chosen_account(sandbox: SandboxCore, params: dict[str, str]) -> Account | Response:
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
