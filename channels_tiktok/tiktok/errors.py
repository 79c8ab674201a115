"""The one exception type for TikTok's failures, and the case where our own rate limiter refused first."""

from __future__ import annotations

import math

from channels_tiktok import constants

# Calls that change something on TikTok's side and have no idempotency key: once the request may have
# reached TikTok, repeating it may post twice (§1).
NON_IDEMPOTENT_PATHS = frozenset({constants.PATH_MESSAGE_SEND, constants.PATH_COMMENT_REPLY})


class TikTokError(Exception):
    """Any failure of a TikTok call.

    `code` is TikTok's code (0 < code), or None when no envelope came back (network error, timeout, HTTP 5xx
    without JSON). `sent` tells whether the request may have reached TikTok.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str = "",
        log_id: str = "",
        http_status: int | None = None,
        path: str = "",
        sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.log_id = log_id
        self.http_status = http_status
        self.path = path
        self.sent = sent

    def __str__(self) -> str:
        return f"TikTok {self.path} failed: code={self.code} {self.message} (log_id={self.log_id or '-'})"

    @property
    def is_token_error(self) -> bool:
        """The access token expired or is invalid: refresh once and retry once."""
        return self.code in constants.TOKEN_ERROR_CODES

    @property
    def needs_reauthorisation(self) -> bool:
        return self.code in constants.REAUTH_ERROR_CODES

    @property
    def is_rate_limited(self) -> bool:
        return self.code in constants.RATE_LIMIT_CODES

    @property
    def retry_safe(self) -> bool:
        """Whether the same call may be repeated (after a backoff) without risk of doing it twice."""
        if self.is_rate_limited or self.is_token_error:
            return True  # TikTok refused before acting
        transient = self.code in constants.SYSTEM_ERROR_CODES or self.code is None
        if not transient:
            return False
        return not (self.sent and self.path in NON_IDEMPOTENT_PATHS)


class ThrottledError(TikTokError):
    """Our own rate limiter could not admit the call within its allowed wait: nothing was sent. It reads as
    TikTok's 40100 (safe to retry later); `retry_after` says when, in seconds."""

    def __init__(self, *, path: str, retry_after: float) -> None:
        super().__init__(
            f"Rate limited by the app's QPS limit; retry after {retry_after:.2f}s.",
            code=constants.CODE_RATE_LIMITED,
            path=path,
            sent=False,
        )
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


class LimiterUnavailableError(TikTokError):
    """The app's shared rate limiter (Redis) is down: the call was not made (`sent` is False). Not retried here."""

    def __init__(self, *, path: str) -> None:
        super().__init__("The rate limiter is unavailable; the call was not made.", path=path, sent=False)
