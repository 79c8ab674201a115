"""Changes of an account's status, and telling the bot builder about them (`account.status` bot events, B6)."""

import logging
import time
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from channels_tiktok.models import TikTokAccount
from clients.events import emit
from clients.models import BotEvent

logger = logging.getLogger(__name__)


def account_ref(account: TikTokAccount) -> dict:
    return {"id": account.pk, "business_id": account.business_id, "username": account.username}


def emit_account_status(*, account: TikTokAccount, status: str, reason: str = "", **data: Any) -> None:
    """Tell the project's bot that the account changed (needs reauthorisation, scopes changed, ...)."""
    # Each transition is its own event: the key holds the moment it happened.
    dedupe_key = f"account.status:{account.pk}:{status}:{time.time_ns()}"
    # Written in the caller's transaction (outbox): the event exists exactly when the change does.
    emit(
        project=account.channel.project,
        event_type=BotEvent.Type.ACCOUNT_STATUS,
        dedupe_key=dedupe_key,
        channel=account.channel,
        account=account_ref(account),
        data={"status": status, "reason": str(reason), **data},
    )


def emit_scopes_changed(*, account: TikTokAccount, scopes: Iterable[str], added: set[str], removed: set[str]) -> None:
    """Tell the bot that the granted scopes changed, if they did (after connect, refresh or a re-check)."""
    if added or removed:
        emit_account_status(
            account=account,
            status="scopes_changed",
            granted_scopes=sorted(scopes),
            added=sorted(added),
            removed=sorted(removed),
        )


def mark_needs_reauth(*, account: TikTokAccount, reason: str) -> bool:
    """Stop using the account until the owner reconnects it. Returns False if it was not active any more."""
    updated = TikTokAccount.objects.filter(pk=account.pk, status=TikTokAccount.Status.ACTIVE).update(
        status=TikTokAccount.Status.NEEDS_REAUTH, status_reason=str(reason), updated_at=timezone.now()
    )
    account.status = TikTokAccount.Status.NEEDS_REAUTH
    account.status_reason = str(reason)
    if updated:
        logger.warning("tiktok.account.needs_reauth", extra={"account_id": account.pk, "reason": str(reason)})
        emit_account_status(account=account, status=TikTokAccount.Status.NEEDS_REAUTH, reason=reason)
    return bool(updated)
