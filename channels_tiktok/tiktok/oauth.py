"""OAuth with TikTok (docs/tiktok-api.md §2): the consent URL, the pending-connect state, the code exchange.

Built on requests-oauthlib's `OAuth2Session` with a compliance fix for TikTok's dialect: the client is
`client_key` on the authorize step but `client_id` on the token step, the code travels as `auth_code` in a
JSON body, scopes are comma-separated and the token comes wrapped in TikTok's `{"code", "data"}` envelope.

The state is one-time and expiring, kept in the owner's session and bound to the user and the project it was
made for, so a callback can only complete the connect that this browser started, for this user, recently.
"""

from __future__ import annotations

import json
import logging
import os
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from channels_tiktok import constants
from channels_tiktok.tiktok import ratelimit
from channels_tiktok.tiktok.client import ThrottledError, TikTokClient, TikTokError, TokenSet

logger = logging.getLogger(__name__)


def requested_scopes() -> tuple[str, ...]:
    """The scopes asked for on the consent page: the setting, or every scope the product uses (§3)."""
    return tuple(settings.TIKTOK_SCOPES) or constants.ALL_SCOPES


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _allow_plain_http_to_loopback(*urls: str) -> None:
    # oauthlib refuses http:// outright. The sandbox (B1) serves plain HTTP on the loopback interface only, so
    # that one case is allowed; a real TikTok URL is https and never needs it.
    plain = [url for url in urls if url.startswith("http://")]
    if plain and all(_is_loopback(url) for url in plain):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def _session(*, state: str | None = None, scope: str | None = None) -> OAuth2Session:
    session = OAuth2Session(client_id=settings.TIKTOK_APP_ID, redirect_uri=settings.TIKTOK_REDIRECT_URI, state=state)
    session.scope = scope
    return session


# ------------------------------------------------------------------------------------------ authorize
def authorization_url(*, state: str) -> str:
    """TikTok's consent page for the configured scopes, always showing the consent screen."""
    _allow_plain_http_to_loopback(settings.TIKTOK_AUTHORIZE_URL, settings.TIKTOK_REDIRECT_URI)
    url, _state = _session(scope=",".join(requested_scopes())).authorization_url(
        settings.TIKTOK_AUTHORIZE_URL, state=state, disable_auto_auth=1
    )
    # Compliance fix: TikTok names the app `client_key` on this step.
    parts = urlsplit(url)
    query = [("client_key" if key == "client_id" else key, value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# ------------------------------------------------------------------------------------------ token
class _TikTokTokenDialect:
    """requests-oauthlib compliance hooks for TikTok's token endpoint; keeps the unwrapped `data`."""

    def __init__(self) -> None:
        self.data: dict | None = None

    def request(
        self, url: str, headers: dict[str, str], request_kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        form = request_kwargs.pop("data", None) or request_kwargs.pop("params", None) or {}
        body = {
            "client_id": form.get("client_id", settings.TIKTOK_APP_ID),
            "client_secret": form.get("client_secret", ""),
            "grant_type": form.get("grant_type", "authorization_code"),
            "auth_code": form.get("code", ""),
            "redirect_uri": form.get("redirect_uri", settings.TIKTOK_REDIRECT_URI),
        }
        headers = {**headers, "Content-Type": "application/json", "Accept": "application/json"}
        return url, headers, {**request_kwargs, "json": body}

    def response(self, response: requests.Response) -> requests.Response:
        # Raises TikTokError (code, log id) on a non-zero code, exactly like every other TikTok call.
        self.data = TikTokClient._parse(response, constants.PATH_OAUTH_TOKEN)
        response._content = json.dumps({"token_type": "Bearer", **self.data}).encode()
        return response


def exchange_code(*, code: str) -> TokenSet:
    """Exchange the authorization code (single use, short-lived) for the account's tokens."""
    token_url = TikTokClient().base_url + constants.PATH_OAUTH_TOKEN
    _allow_plain_http_to_loopback(token_url)
    dialect = _TikTokTokenDialect()
    session = _session()
    session.register_compliance_hook("access_token_request", dialect.request)
    session.register_compliance_hook("access_token_response", dialect.response)
    try:  # the exchange is one of the app's calls too (B7); TikTokClient is not the transport here
        ratelimit.acquire()
    except ratelimit.RateLimitedError as exc:
        raise ThrottledError(path=constants.PATH_OAUTH_TOKEN, retry_after=exc.retry_after) from exc
    try:
        session.fetch_token(
            token_url,
            code=code,
            client_secret=settings.TIKTOK_APP_SECRET[0],
            include_client_id=True,
            timeout=settings.TIKTOK_HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        logger.warning("tiktok.oauth.exchange_unreachable", extra={"error": type(exc).__name__})
        raise TikTokError(f"TikTok did not answer: {type(exc).__name__}", path=constants.PATH_OAUTH_TOKEN) from exc
    except OAuth2Error as exc:
        raise TikTokError(f"Unexpected token answer: {exc.error}", path=constants.PATH_OAUTH_TOKEN) from exc
    tokens = TokenSet.from_data(dialect.data or {})
    logger.info("tiktok.oauth.exchanged", extra={"business_id": tokens.open_id, "scopes": ",".join(tokens.scopes)})
    return tokens
