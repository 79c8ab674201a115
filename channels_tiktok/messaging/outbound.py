"""What every call to TikTok on the bot's behalf shares: the rate limiter, safe retries, and the refusals.

Retries live here and only here: a call waits for the app's rate limiter (B7: `TikTokClient` makes every call of
the app wait, and a send that cannot be admitted soon enough is answered 429); an expired or invalid token is
refreshed once and the call repeated once (`tokens.call`); TikTok's 40100 and failures that never reached TikTok
are retried after a backoff; anything that may already have been acted on (a send or comment reply that timed
out or met a system error) is reported, never repeated: TikTok has no idempotency key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.messaging.rules import Violation
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import LimiterUnavailableError, ThrottledError, TikTokClient, TikTokError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds to wait before the 2nd and 3rd attempt of a call that is safe to repeat.
RETRY_BACKOFF_SECONDS = (0.25, 1.0)

# The refusals of the send and comment endpoints beyond the rules' own codes: code -> meaning.
CONFLICT_CODES: dict[str, str] = {
    "account_unavailable": "The account cannot be used: it needs reauthorisation, is disconnected, or is "
    "registered in a region where TikTok's messaging API is unavailable (US, EEA, Switzerland, UK).",
    "missing_scope": "The account did not grant the permission this needs; reconnect it and allow it.",
}
UPSTREAM_CODES: dict[str, str] = {
    "tiktok_rejected": "TikTok refused the call; `tiktok_code` and `message` say why, `log_id` is for TikTok support.",
    "tiktok_unavailable": "TikTok did not answer or had an error; the message may or may not have been sent, so it "
    "was not retried.",
}

# Our side cannot make the call right now; nothing reached TikTok (503).
UNAVAILABLE_CODES: dict[str, str] = {
    "rate_limiter_unavailable": "The shared rate limiter (Redis) is unavailable, so no call to TikTok was made; "
    "nothing was sent. Retry later.",
    "database_unavailable": "The database became unavailable during the call; the message may or may not have been "
    "sent, so it was not retried.",
}


class OutboundError(Exception):
    """A send or comment reply we refuse, or that TikTok refused. The API maps each kind to its HTTP answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RuleViolationsError(OutboundError):
    """The request breaks rules (422)."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(violations[0].code, violations[0].message)
        self.violations = violations


class BlockedError(OutboundError):
    """The client's or account's state forbids it (409): no_conversation, window_closed, quota_exhausted,
    account_unavailable, missing_scope."""


class UpstreamError(OutboundError):
    """TikTok refused or did not answer (502)."""

    def __init__(self, code: str, message: str, *, tiktok_code: int | None, log_id: str) -> None:
        super().__init__(code, message)
        self.tiktok_code = tiktok_code
        self.log_id = log_id

    @classmethod
    def from_error(cls, error: TikTokError) -> UpstreamError:
        rejected = error.code is not None and error.code not in constants.SYSTEM_ERROR_CODES
        return cls(
            "tiktok_rejected" if rejected else "tiktok_unavailable",
            error.message,
            tiktok_code=error.code,
            log_id=error.log_id,
        )


class SendRateLimitedError(OutboundError):
    """The app's rate limit cannot admit the call soon enough (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited", f"Too many calls to TikTok right now; retry in {retry_after} s.")
        self.retry_after = retry_after


BUSY_CODES: dict[str, str] = {
    "image_fetch_busy": "The project already has as many image downloads running as it may; retry after the "
    "`Retry-After` header's seconds.",
}


class BusyError(OutboundError):
    """The project has too much of this running already (429 with Retry-After): see BUSY_CODES."""

    def __init__(self, code: str, *, retry_after: int = 1) -> None:
        super().__init__(code, BUSY_CODES[code])
        self.retry_after = retry_after


class ServiceUnavailableError(OutboundError):
    """Our own infrastructure cannot carry the call (503): see UNAVAILABLE_CODES."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code, message or UNAVAILABLE_CODES[code])


def ensure_available(account: TikTokAccount) -> None:
    """Refuse before any work when the account cannot be used at all."""
    if account.status != TikTokAccount.Status.ACTIVE:
        reason = account.status_reason or account.get_status_display()
        raise BlockedError("account_unavailable", f"The TikTok account is {account.get_status_display()}: {reason}")
    if account.region_available is False:
        raise BlockedError(
            "account_unavailable",
            f"TikTok's messaging API is not available for accounts registered in {account.country}.",
        )


def failure_detail(error: TikTokError) -> str:
    """What the message log keeps of TikTok's refusal: its code, its words and the log id to quote to TikTok."""
    return f"TikTok code {error.code}: {error.message} (log_id={error.log_id or '-'})"


def definitely_not_acted_on(error: TikTokError) -> bool:
    """TikTok certainly did not act: the request never left, or TikTok answered with a refusal code."""
    return not error.sent or (error.code is not None and error.code not in constants.SYSTEM_ERROR_CODES)


def call(account: TikTokAccount, operation: Callable[[TikTokClient], T], *, event: str) -> T:
    """Run `operation` for `account` (each of its requests waits for the rate limiter), with the safe retries.

    Raises SendRateLimitedError, ServiceUnavailableError (rate_limiter_unavailable), BlockedError
    (account_unavailable) or TikTokError (its meaning is the caller's).
    """
    attempt = 0
    while True:
        try:
            return tokens.call(account, operation)
        except ThrottledError as exc:  # our limiter, not TikTok: nothing was sent, the caller is told when
            raise SendRateLimitedError(exc.retry_after_seconds) from exc
        except LimiterUnavailableError as exc:  # our limiter's Redis is down: nothing was sent
            raise ServiceUnavailableError("rate_limiter_unavailable") from exc
        except tokens.AccountUnavailableError as exc:
            raise BlockedError("account_unavailable", f"The TikTok account cannot be used: {exc.reason}") from exc
        except TikTokError as error:
            if error.is_token_error:  # still refused after the one refresh
                raise BlockedError(
                    "account_unavailable", "TikTok does not accept the account's token; reconnect the account."
                ) from error
            if not error.retry_safe or attempt >= len(RETRY_BACKOFF_SECONDS):
                logger.info(
                    f"{event}.failed",
                    extra={"code": error.code, "log_id": error.log_id, "attempt": attempt + 1, "sent": error.sent},
                )
                raise
            logger.info(f"{event}.retry", extra={"code": error.code, "attempt": attempt + 1})
            time.sleep(RETRY_BACKOFF_SECONDS[attempt])
            attempt += 1
