"""Push bot events to their project's callback URL again (by default the failed ones), with a progress bar."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from clients import delivery
from clients.management.options import parse_since
from clients.models import BotEvent
from clients.progress import Progress


class Command(BaseCommand):
    help = (
        "Re-deliver bot events (default: status failed) matching the filters, oldest first. Each is made due "
        "now and queued; its project's callback URL must be set."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--status", choices=BotEvent.DeliveryStatus.values, default=BotEvent.DeliveryStatus.FAILED)
        parser.add_argument("--project", type=int, help="project id")
        parser.add_argument(
            "--type", dest="event_type", choices=BotEvent.Type.values, help="event type, e.g. client.message"
        )
        parser.add_argument("--since", help="created at or after: 30m, 24h, 7d or an ISO 8601 date-time")
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--dry-run", action="store_true", help="only count the events that would be re-delivered")

    def handle(
        self,
        *args: Any,
        status: str | None,
        project: int | None,
        event_type: str | None,
        since: Any,
        limit: int | None,
        dry_run: bool,
        **options: Any,
    ) -> None:
        events = BotEvent.objects.filter(status=status)
        if project:
            events = events.filter(project_id=project)
        if event_type:
            events = events.filter(type=event_type)
        if since:
            events = events.filter(created_at__gte=parse_since(since))
        skipped = events.filter(project__callback_url="").count()
        ids = list(events.exclude(project__callback_url="").order_by("id").values_list("id", flat=True)[:limit])
        if dry_run:
            self.stdout.write(f"{len(ids)} bot events would be re-delivered ({skipped} skipped: no callback URL).")
            return
        progress = Progress("redeliver", len(ids), stream=self.stderr, every=100)
        for event in BotEvent.objects.filter(pk__in=ids).order_by("id").iterator(chunk_size=500):
            delivery.redeliver(event=event)
            progress.advance()
        progress.finish()
        # Delivery runs in the workers (or in-process after each queueing): its outcome is on each event.
        self.stdout.write(
            self.style.SUCCESS(f"Queued {len(ids)} bot events for re-delivery; {skipped} skipped: no callback URL.")
        )
