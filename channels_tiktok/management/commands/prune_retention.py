"""Delete now what the retention schedule deletes every ten minutes: finished webhook journal rows and bot events
older than their retention (TIKTOK_JOURNAL_RETENTION_DAYS, BOT_EVENT_RETENTION_DAYS), with a progress bar."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from channels_tiktok.webhooks import journal
from clients import delivery
from clients.progress import Progress

# Each pass of the loop is one scheduled run's worth of work (clients/retention.py); the command repeats them.
PARTS = (
    ("journal", "journal rows", journal, "TIKTOK_JOURNAL_RETENTION_DAYS"),
    ("bot events", "bot events", delivery, "BOT_EVENT_RETENTION_DAYS"),
)


class Command(BaseCommand):
    help = (
        "Delete the finished webhook journal rows and bot events (with their delivery attempts) that are older than "
        "their retention, until none is left: what the beat's schedule does a little every ten minutes, at once "
        "(after lowering a retention, or to clear a backlog). Rows still due for work are never deleted."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only count the rows that would be deleted")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        now = timezone.now()
        for label, rows_name, service, setting in PARTS:
            days = getattr(settings, setting)
            rows = service.prunable(now)
            if rows is None:
                self.stdout.write(f"{rows_name.capitalize()}: kept forever ({setting} is 0).")
                continue
            count = rows.count()
            if dry_run:
                self.stdout.write(f"{count} {rows_name} would be deleted (finished, older than {days} days).")
                continue
            progress = Progress(label, count, stream=self.stderr, every=10_000)
            while deleted := service.prune(now=now):
                progress.advance(deleted)
            progress.finish()
            self.stdout.write(
                self.style.SUCCESS(f"Deleted {progress.done} {rows_name} (finished, older than {days} days).")
            )
