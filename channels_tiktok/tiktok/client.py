"""TikTok Business API client: HTTP only, no database.

One small method per endpoint (docs/tiktok-api.md §2, §4). Every response is TikTok's envelope
`{"code", "message", "request_id", "data"}`; any non-zero `code` (or a non-JSON / non-2xx answer) raises
`TikTokError` (errors.py), which says whether repeating the call is safe. Retries are not made here: they live in the
caller (a service or a task), in one place. Every request first waits for the app's rate limiter (`ratelimit`):
TikTok limits the app, whatever the endpoint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import requests
import urllib3
from django.conf import settings

from channels_tiktok import constants
from channels_tiktok.tiktok import json_text, ratelimit
from channels_tiktok.tiktok.business import BusinessFeaturesMixin
from channels_tiktok.tiktok.errors import LimiterUnavailableError, ThrottledError, TikTokError
from channels_tiktok.tiktok.token_set import TokenSet
from clients import deadline

logger = logging.getLogger(__name__)


def _may_have_reached(exc: requests.ConnectionError) -> bool:
    """False only when the connection was never established (refused, DNS), so nothing was sent."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)


def _json_array(values: Iterable[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


class TikTokClient(BusinessFeaturesMixin):
    """Calls to TikTok's Business API. `access_token` is needed for resource calls, not for OAuth calls."""

    def __init__(
        self,
        access_token: str | None = None,
        *,
        base_url: str | None = None,
        app_id: str | None = None,
        app_secret: str | None = None,
        timeout: float | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._access_token = access_token
        self.base_url = (base_url or settings.TIKTOK_API_BASE_URL).rstrip("/") + "/"
        self.app_id = app_id or settings.TIKTOK_APP_ID
        self._app_secret = app_secret or settings.TIKTOK_APP_SECRET[0]
        self.timeout = timeout or settings.TIKTOK_HTTP_TIMEOUT_SECONDS
        self.session = session or deadline.session()

    def __repr__(self) -> str:
        return f"TikTokClient(base_url={self.base_url!r}, app_id={self.app_id!r})"

    # ------------------------------------------------------------------------------ transport
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: dict | None = None,
        data: dict | None = None,
        files: dict | None = None,
        token: bool = True,
    ) -> dict:
        headers = {}
        if token:
            if not self._access_token:
                raise TikTokError("No access token.", code=constants.CODE_INVALID_ACCESS_TOKEN, path=path, sent=False)
            headers[constants.ACCESS_TOKEN_HEADER] = self._access_token
        url = self.base_url + path
        try:
            ratelimit.acquire(app_id=self.app_id)
        except ratelimit.RateLimitedError as exc:
            raise ThrottledError(path=path, retry_after=exc.retry_after) from exc
        except ratelimit.LimiterUnavailableError as exc:
            raise LimiterUnavailableError(path=path) from exc
        try:
            # `timeout` bounds the whole call (headers and body), not each read: see clients.deadline.
            with deadline.Deadline(self.timeout) as limit:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=self.timeout,
                )
            if limit.expired:
                raise requests.ReadTimeout(f"no complete answer within {self.timeout} s")
        except requests.Timeout as exc:
            # A connect timeout never reached TikTok; a read timeout may have.
            sent = not isinstance(exc, requests.ConnectTimeout)
            logger.warning("tiktok.request.timeout", extra={"path": path, "sent": sent})
            raise TikTokError("TikTok did not answer in time.", path=path, sent=sent) from exc
        except requests.ConnectionError as exc:
            sent = _may_have_reached(exc)
            logger.warning("tiktok.request.connection_error", extra={"path": path, "sent": sent})
            raise TikTokError(f"Connection error: {type(exc).__name__}", path=path, sent=sent) from exc
        except requests.RequestException as exc:  # e.g. the answer's body cut short: the request did reach TikTok
            logger.warning("tiktok.request.failed", extra={"path": path, "error": type(exc).__name__})
            raise TikTokError(f"Request failed: {type(exc).__name__}", path=path, sent=True) from exc
        return self._parse(response, path)

    @staticmethod
    def _parse(response: requests.Response, path: str) -> dict:
        log_id = response.headers.get(constants.LOG_ID_HEADER, "")
        try:
            envelope = json_text.loads(response.content)  # a comment's text may hold a lone surrogate escape
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "code" not in envelope:
            raise TikTokError(
                f"Unexpected answer (HTTP {response.status_code}).",
                http_status=response.status_code,
                log_id=log_id,
                path=path,
            )
        # `code` is a number; a string of digits is read as one. An error's `data` may be null or absent.
        code = envelope.get("code")
        code = int(code) if isinstance(code, str) and code.strip().isdigit() else code
        if code != constants.CODE_OK:
            error = TikTokError(
                str(envelope.get("message") or "TikTok error"),
                code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                request_id=str(envelope.get("request_id") or ""),
                log_id=log_id,
                http_status=response.status_code,
                path=path,
            )
            logger.info(
                "tiktok.request.error",
                extra={"path": path, "code": error.code, "log_id": log_id, "request_id": error.request_id},
            )
            raise error
        data = envelope.get("data")
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------------------ OAuth (§2)
    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        data = self._request(
            "POST",
            constants.PATH_OAUTH_TOKEN,
            token=False,
            json_body={
                "client_id": self.app_id,
                "client_secret": self._app_secret,
                "grant_type": "authorization_code",
                "auth_code": code,
                "redirect_uri": redirect_uri,
            },
        )
        return TokenSet.from_data(data)

    def refresh(self, *, refresh_token: str) -> TokenSet:
        data = self._request(
            "POST",
            constants.PATH_OAUTH_REFRESH,
            token=False,
            json_body={
                "client_id": self.app_id,
                "client_secret": self._app_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )
        return TokenSet.from_data(data)

    def revoke(self) -> None:
        self._request(
            "POST",
            constants.PATH_OAUTH_REVOKE,
            token=False,
            json_body={"client_id": self.app_id, "client_secret": self._app_secret, "access_token": self._access_token},
        )

    def token_info(self) -> dict:
        return self._request(
            "POST",
            constants.PATH_TOKEN_INFO,
            token=False,
            json_body={"app_id": self.app_id, "access_token": self._access_token},
        )

    # ------------------------------------------------------------------------------ account (§4)
    def get_profile(self, *, business_id: str, fields: Iterable[str] = constants.PROFILE_FIELDS) -> dict:
        return self._request(
            "GET", constants.PATH_BUSINESS_GET, params={"business_id": business_id, "fields": _json_array(fields)}
        )

    # ------------------------------------------------------------------------------ messages (§4)
    def send_message(self, *, business_id: str, conversation_id: str, message_type: str, body: dict) -> str:
        """Send one message; `body` holds the type's key (`text`, `image`, `template`). Returns the message id."""
        payload = {
            "business_id": business_id,
            "recipient_type": constants.RECIPIENT_TYPE_CONVERSATION,
            "recipient": conversation_id,
            "message_type": message_type,
            **body,
        }
        data = self._request("POST", constants.PATH_MESSAGE_SEND, json_body=payload)
        return str((data.get("message") or {}).get("message_id", ""))

    def send_comment_dm(self, *, business_id: str, comment_id: str, text: str) -> dict:
        """The one private message a comment may get (`direct_reply` COMMENT_REPLY): it names the comment, not a
        conversation. Returns TikTok's `message` (`message_id`, and `conversation_id` when TikTok gives it)."""
        payload = {
            "business_id": business_id,
            "recipient_type": constants.RECIPIENT_TYPE_CONVERSATION,
            "recipient": "",
            "message_type": constants.MESSAGE_TYPE_TEXT,
            "text": {"body": text},
            "direct_reply": {
                "reply_type": constants.REPLY_TYPE_COMMENT_REPLY,
                "comment_reply": {"comment_id": comment_id},
            },
        }
        data = self._request("POST", constants.PATH_MESSAGE_SEND, json_body=payload)
        message = data.get("message")
        return message if isinstance(message, dict) else {}

    def comment_to_message_enabled(self, *, business_id: str) -> bool:
        data = self._request(
            "GET",
            constants.PATH_DIRECT_REPLY_GET,
            params={"business_id": business_id, "direct_reply_type": constants.DIRECT_REPLY_TYPE_COMMENT_TO_MESSAGE},
        )
        return str(data.get("operation_status", "")).upper() == constants.OPERATION_ENABLE

    def set_comment_to_message(self, *, business_id: str, enabled: bool) -> None:
        self._request(
            "POST",
            constants.PATH_DIRECT_REPLY_UPDATE,
            json_body={
                "business_id": business_id,
                "direct_reply_type": constants.DIRECT_REPLY_TYPE_COMMENT_TO_MESSAGE,
                "operation_status": constants.OPERATION_ENABLE if enabled else constants.OPERATION_DISABLE,
            },
        )

    def upload_image(self, *, business_id: str, content: bytes, filename: str, content_type: str) -> str:
        data = self._request(
            "POST",
            constants.PATH_MEDIA_UPLOAD,
            data={"business_id": business_id, "media_type": constants.MEDIA_TYPE_IMAGE},
            files={"file": (filename, content, content_type)},
        )
        return str(data["media_id"])

    def media_download_url(
        self,
        *,
        business_id: str,
        conversation_id: str,
        message_id: str,
        media_id: str,
        media_type: str = constants.MEDIA_TYPE_IMAGE,
    ) -> str:
        data = self._request(
            "POST",
            constants.PATH_MEDIA_DOWNLOAD,
            json_body={
                "business_id": business_id,
                "conversation_id": conversation_id,
                "message_id": message_id,
                "media_id": media_id,
                "media_type": media_type,
            },
        )
        return str(data.get("download_url", ""))

    def image_send_capability(
        self,
        *,
        business_id: str,
        conversation_id: str,
        conversation_type: str = constants.CONVERSATION_TYPE_SINGLE,
    ) -> bool:
        data = self._request(
            "GET",
            constants.PATH_CAPABILITIES,
            params={
                "business_id": business_id,
                "capability_types": _json_array([constants.CAPABILITY_IMAGE_SEND]),
                "conversation_id": conversation_id,
                "conversation_type": conversation_type,
            },
        )
        for info in data.get("capability_infos") or []:
            if info.get("capability_type") == constants.CAPABILITY_IMAGE_SEND:
                return bool(info.get("capability_result"))
        return False

    def list_messages(self, *, business_id: str, conversation_id: str) -> dict:
        return self._request(
            "GET", constants.PATH_CONTENT_LIST, params={"business_id": business_id, "conversation_id": conversation_id}
        )

    # ------------------------------------------------------------------------------ videos and comments (§4)
    def list_videos(
        self, *, business_id: str, fields: Iterable[str], cursor: str | None = None, max_count: int = 20
    ) -> dict:
        params: dict[str, Any] = {"business_id": business_id, "fields": _json_array(fields), "max_count": max_count}
        if cursor:
            params["cursor"] = cursor
        return self._request("GET", constants.PATH_VIDEO_LIST, params=params)

    def list_comments(self, *, business_id: str, video_id: str, comment_ids: Iterable[str] = ()) -> list[dict]:
        params = {"business_id": business_id, "video_id": video_id}
        ids = list(comment_ids)
        if ids:
            params["comment_ids"] = _json_array(ids)
        data = self._request("GET", constants.PATH_COMMENT_LIST, params=params)
        return list(data.get("comments") or [])

    def reply_to_comment(self, *, business_id: str, video_id: str, comment_id: str, text: str) -> dict:
        return self._request(
            "POST",
            constants.PATH_COMMENT_REPLY,
            json_body={"business_id": business_id, "video_id": video_id, "comment_id": comment_id, "text": text},
        )

    # ------------------------------------------------------------------------------ webhooks (§4, per app)
    def subscribe_webhook(self, *, event_type: str, callback_url: str) -> dict:
        return self._request(
            "POST",
            constants.PATH_WEBHOOK_UPDATE,
            token=False,
            json_body={
                "app_id": self.app_id,
                "secret": self._app_secret,
                "event_type": event_type,
                "callback_url": callback_url,
            },
        )

    def list_webhooks(self, *, event_type: str) -> dict:
        return self._request(
            "GET",
            constants.PATH_WEBHOOK_LIST,
            token=False,
            params={"app_id": self.app_id, "secret": self._app_secret, "event_type": event_type},
        )
