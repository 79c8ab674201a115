"""Refresh the access tokens of all active accounts now (or only those expiring soon), with a progress bar."""

import datetime as dt
from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from channels_tiktok.accounts.tokens import AccountUnavailableError, refresh_access_token
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients.progress import Progress


class Command(BaseCommand):
    help = (
        "Refresh the tokens of every active TikTok account (the periodic task only refreshes those about to "
        "expire). Accounts whose refresh token TikTok refuses are marked as needing reauthorisation."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--expiring-within", type=float, metavar="HOURS", help="only accounts whose token expires within HOURS"
        )
        parser.add_argument("--account", type=int, action="append", help="only this account id (repeatable)")

    def handle(self, *args: Any, expiring_within: int, account: str | None, **options: Any) -> None:
        accounts = TikTokAccount.objects.filter(status=TikTokAccount.Status.ACTIVE).order_by("pk")
        deadline = None
        if expiring_within is not None:
            deadline = timezone.now() + dt.timedelta(hours=expiring_within)
            accounts = accounts.filter(access_token_expires_at__lte=deadline)
        if account:
            accounts = accounts.filter(pk__in=account)
        ids = list(accounts.values_list("pk", flat=True))
        progress = Progress("tokens", len(ids), stream=self.stderr, every=50)
        outcomes: Counter[str] = Counter()
        for pk in ids:
            row = TikTokAccount.objects.filter(pk=pk).first()
            if row is None:
                outcomes["gone"] += 1
            else:
                outcomes[self._refresh(row, deadline)] += 1
            progress.advance()
        progress.finish()
        summary = ", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items())) or "no active account"
        failed = outcomes["failed"] or outcomes["needs_reauth"]
        self.stdout.write((self.style.WARNING if failed else self.style.SUCCESS)(f"Tokens: {summary}."))

    def _refresh(self, account: TikTokAccount, deadline: dt.datetime) -> str:
        before = account.token_refreshed_at
        try:
            fresh = refresh_access_token(account, expiring_before=deadline)
        except AccountUnavailableError as error:
            self.stderr.write(f"\n{account} (#{account.pk}): needs reauthorisation: {error.reason}")
            return "needs_reauth"
        except TikTokError as error:
            # TikTok's code and log id tell support what happened; the token itself is never printed.
            self.stderr.write(f"\n{account} (#{account.pk}): TikTok error {error.code} (log id {error.log_id})")
            return "failed"
        return "refreshed" if fresh.token_refreshed_at != before else "skipped"
