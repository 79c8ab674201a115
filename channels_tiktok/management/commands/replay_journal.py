"""Replay webhook journal rows chosen by a filter: process them again (handlers are idempotent)."""

from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import processing
from clients.management.options import parse_since
from clients.progress import Progress


class Command(BaseCommand):
    help = (
        "Replay journal rows matching the filters (status, event, account, since), oldest first, and print how "
        "each ended. Replaying is idempotent: nothing is logged or pushed to the bot twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--status", choices=WebhookEvent.Status.values, help="e.g. failed")
        parser.add_argument("--event", help="TikTok's event name, e.g. im_receive_msg")
        parser.add_argument("--account", help="account id, business id or @username")
        parser.add_argument("--since", help="received at or after: 30m, 24h, 7d or an ISO 8601 date-time")
        parser.add_argument("--limit", type=int, default=None, help="replay at most this many rows")
        parser.add_argument("--all", action="store_true", dest="everything", help="required when no filter is given")
        parser.add_argument("--dry-run", action="store_true", help="only count the rows that would be replayed")

    def handle(
        self,
        *args: Any,
        status: str | None,
        event: str | None,
        account: str | None,
        since: str | None,
        limit: int | None,
        everything: bool,
        dry_run: bool,
        **options: Any,
    ) -> None:
        rows = WebhookEvent.objects.all()
        if status:
            rows = rows.filter(status=status)
        if event:
            rows = rows.filter(event=event)
        if account:
            rows = rows.filter(self._account_q(account))
        if since:
            rows = rows.filter(received_at__gte=parse_since(since))
        if not (status or event or account or since or everything):
            raise CommandError("Give at least one filter (--status, --event, --account, --since) or --all.")
        ids = list(rows.order_by("id").values_list("id", flat=True)[:limit])
        if dry_run:
            self.stdout.write(f"{len(ids)} journal rows would be replayed.")
            return
        progress = Progress("replay", len(ids), stream=self.stderr, every=100)
        outcomes: Counter[str] = Counter()
        for event_id in ids:
            replayed = processing.process_event(event_id=event_id, replay=True)
            outcomes[replayed.status if replayed else "gone"] += 1
            progress.advance()
        progress.finish()
        summary = ", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items())) or "nothing to do"
        style = self.style.WARNING if outcomes.get(WebhookEvent.Status.FAILED) else self.style.SUCCESS
        self.stdout.write(style(f"Replayed {len(ids)} journal rows ({summary})."))

    @staticmethod
    def _account_q(value: str) -> Q:
        value = value.strip()
        if value.isdigit():
            return Q(account_id=int(value))
        if value.startswith("@"):
            return Q(account__username=value[1:])
        return Q(business_id=value)
