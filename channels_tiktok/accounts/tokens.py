"""Access to TikTok on behalf of an account: a client bound to a valid token, refreshed when needed (B6).

Refreshing is serialised per account with a row lock: TikTok's refresh tokens rotate, so two workers
refreshing at once would spend the same refresh token twice and one of them would lose the account. Whoever
takes the lock second re-reads the row, sees the new token and makes no call.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_tiktok import constants
from channels_tiktok.accounts.scopes import sync_granted_scopes
from channels_tiktok.accounts.status import emit_scopes_changed, mark_needs_reauth
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokClient, TikTokError, TokenSet

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The periodic task refreshes tokens that expire within this margin (it runs every 10 minutes).
REFRESH_MARGIN = dt.timedelta(hours=2)

REAUTH_REFRESH_FAILED = _("TikTok refused to renew the authorisation (%(message)s). Reconnect the account.")
REAUTH_REFRESH_EXPIRED = _("The authorisation expired. Reconnect the account.")
REAUTH_TOKEN_REJECTED = _("TikTok rejects the account's token even after renewing it. Reconnect the account.")


class AccountUnavailableError(Exception):
    """No call can be made for this account (needs reauthorisation, disconnected)."""

    def __init__(self, account: TikTokAccount, reason: str) -> None:
        super().__init__(reason)
        self.account = account
        self.reason = reason


def client_for(account: TikTokAccount) -> TikTokClient:
    if account.status != TikTokAccount.Status.ACTIVE:
        raise AccountUnavailableError(account, account.status_reason or str(account.get_status_display()))
    return TikTokClient(account.access_token)


def _refresh_failed_for_good(error: TikTokError) -> bool:
    # Rate limits, system errors and network failures pass; any other answer about a refresh token means
    # TikTok will not take it again (expired, revoked, already spent).
    if error.code is None:
        return False
    return error.code not in constants.RATE_LIMIT_CODES | constants.SYSTEM_ERROR_CODES


def store_tokens(*, account: TikTokAccount, tokens: TokenSet, now: dt.datetime | None = None) -> None:
    """Put a token answer on `account` (not saved). The refresh token rotates: always keep the new one."""
    now = now or timezone.now()
    account.access_token = tokens.access_token
    if tokens.refresh_token:
        account.refresh_token = tokens.refresh_token
    account.access_token_expires_at = now + dt.timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    if tokens.refresh_token_expires_in:
        account.refresh_token_expires_at = now + dt.timedelta(seconds=tokens.refresh_token_expires_in)
    account.token_refreshed_at = now


def refresh_access_token(account: TikTokAccount, *, expiring_before: dt.datetime | None = None) -> TikTokAccount:
    """Renew the account's token, unless another worker already did since `account` was read.

    With `expiring_before`, the call is also skipped when the token (re-read under the lock) is valid beyond
    that moment. Returns the fresh row. Raises AccountUnavailableError when the account cannot be used (and
    marks it needing reauthorisation when TikTok refuses the refresh token for good); transient TikTok
    errors propagate as TikTokError.
    """
    seen_token = account.access_token
    failure: TikTokError | None = None
    with transaction.atomic():
        locked = TikTokAccount.objects.select_for_update().select_related("channel__project").get(pk=account.pk)
        if locked.status != TikTokAccount.Status.ACTIVE:
            raise AccountUnavailableError(locked, locked.status_reason or str(locked.get_status_display()))
        if locked.access_token != seen_token:
            logger.info("tiktok.token.refresh_skipped", extra={"account_id": locked.pk, "why": "already_refreshed"})
            return locked
        if expiring_before and locked.access_token_expires_at and locked.access_token_expires_at > expiring_before:
            logger.info("tiktok.token.refresh_skipped", extra={"account_id": locked.pk, "why": "not_expiring"})
            return locked
        refresh_expired = locked.refresh_token_expires_at and locked.refresh_token_expires_at <= timezone.now()
        if not locked.refresh_token or refresh_expired:
            mark_needs_reauth(account=locked, reason=str(REAUTH_REFRESH_EXPIRED))
        else:
            try:
                tokens = TikTokClient().refresh(refresh_token=locked.refresh_token)
            except TikTokError as error:
                if not _refresh_failed_for_good(error):
                    logger.warning(
                        "tiktok.token.refresh_failed",
                        extra={"account_id": locked.pk, "code": error.code, "log_id": error.log_id},
                    )
                    raise
                failure = error
                mark_needs_reauth(account=locked, reason=str(REAUTH_REFRESH_FAILED % {"message": error.message}))
            else:
                store_tokens(account=locked, tokens=tokens)
                locked.save(
                    update_fields=[
                        "access_token",
                        "refresh_token",
                        "access_token_expires_at",
                        "refresh_token_expires_at",
                        "token_refreshed_at",
                        "updated_at",
                    ]
                )
                if tokens.scopes:
                    added, removed = sync_granted_scopes(account=locked, scopes=tokens.scopes)
                    emit_scopes_changed(account=locked, scopes=tokens.scopes, added=added, removed=removed)
                logger.info(
                    "tiktok.token.refreshed",
                    extra={"account_id": locked.pk, "expires_at": str(locked.access_token_expires_at)},
                )
                return locked
    raise AccountUnavailableError(locked, locked.status_reason) from failure


def refresh_expiring(*, margin: dt.timedelta = REFRESH_MARGIN) -> dict[str, int]:
    """Refresh every active account whose token expires within `margin`. Safe to run twice at once."""
    deadline = timezone.now() + margin
    counts = {"refreshed": 0, "skipped": 0, "needs_reauth": 0, "failed": 0}
    due = TikTokAccount.objects.filter(status=TikTokAccount.Status.ACTIVE, access_token_expires_at__lte=deadline)
    for account in due.iterator():
        before = account.token_refreshed_at
        try:
            fresh = refresh_access_token(account, expiring_before=deadline)
        except AccountUnavailableError:
            counts["needs_reauth"] += 1
        except TikTokError:
            counts["failed"] += 1
        else:
            counts["refreshed" if fresh.token_refreshed_at != before else "skipped"] += 1
    logger.info("tiktok.token.refresh_expiring", extra=counts)
    return counts


def call(account: TikTokAccount, operation: Callable[[TikTokClient], T]) -> T:
    """Run `operation` with the account's token; on an expired/invalid token refresh once and retry once.

    An account TikTok keeps refusing after the refresh is marked as needing reauthorisation, and no further
    calls are made with it (AccountUnavailableError).
    """
    client = client_for(account)
    if account.access_token_expires_at and account.access_token_expires_at <= timezone.now():
        account = refresh_access_token(account)
        client = client_for(account)
    try:
        return operation(client)
    except TikTokError as error:
        if error.needs_reauthorisation:
            mark_needs_reauth(account=account, reason=str(REAUTH_REFRESH_EXPIRED))
            raise AccountUnavailableError(account, account.status_reason) from error
        if not error.is_token_error:
            raise
        logger.info("tiktok.token.rejected", extra={"account_id": account.pk, "code": error.code})
    account = refresh_access_token(account)
    try:
        return operation(client_for(account))
    except TikTokError as error:
        if error.is_token_error or error.needs_reauthorisation:
            mark_needs_reauth(account=account, reason=str(REAUTH_TOKEN_REJECTED))
            raise AccountUnavailableError(account, account.status_reason) from error
        raise
