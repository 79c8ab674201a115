"""Access to TikTok on behalf of an account: a client bound to a valid token, refreshed when TikTok says so.

FIRST VERSION (foundation): `call` refreshes once on 40102/40105 and retries once. The connect issue makes
refresh serialised per account (row lock) and marks accounts that need reauthorisation.
"""

from collections.abc import Callable
from typing import TypeVar

from .client import TikTokClient, TikTokError
from .models import TikTokAccount

T = TypeVar("T")


class AccountUnavailableError(Exception):
    """No call can be made for this account (needs reauthorisation, disconnected)."""

    def __init__(self, account: TikTokAccount, reason: str):
        super().__init__(reason)
        self.account = account
        self.reason = reason


def client_for(account: TikTokAccount) -> TikTokClient:
    if account.status != TikTokAccount.Status.ACTIVE:
        raise AccountUnavailableError(account, account.status_reason or account.get_status_display())
    return TikTokClient(account.access_token)


def refresh_access_token(account: TikTokAccount) -> TikTokAccount:
    raise NotImplementedError


def call(account: TikTokAccount, operation: Callable[[TikTokClient], T]) -> T:
    """Run `operation` with the account's token; on an expired/invalid token refresh once and retry once."""
    try:
        return operation(client_for(account))
    except TikTokError as error:
        if not error.is_token_error:
            raise
    account = refresh_access_token(account)
    return operation(client_for(account))
