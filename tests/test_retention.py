"""Retention: finished journal rows and bot events are deleted once older than their settings say; nothing still
due for work is (clients/retention.py, journal.prune, delivery.prune)."""

import datetime as dt
import io
import itertools

import pytest
from django.core import checks
from django.core.management import call_command
from django.utils import timezone

from channels_tiktok import tasks as tiktok_tasks
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal
from clients import delivery, retention
from clients import tasks as client_tasks
from clients.models import BotEvent, DeliveryAttempt
from tests.factories import BotEventFactory, DeliveryAttemptFactory, WebhookEventFactory

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
Status = WebhookEvent.Status
Delivery = BotEvent.DeliveryStatus


def journal_row(name, *, status, days_ago, retry_due=False, now=NOW):
    row = WebhookEventFactory(dedupe_key=name, status=status)
    # received_at is set on insert (auto_now_add): moved back in time with an UPDATE.
    WebhookEvent.objects.filter(pk=row.pk).update(
        received_at=now - dt.timedelta(days=days_ago),
        next_attempt_at=now + dt.timedelta(minutes=5) if retry_due or status == Status.PENDING else None,
    )
    return row


def bot_event(name, *, status, days_ago, attempts=0, now=NOW):
    event = BotEventFactory(dedupe_key=name, status=status)
    BotEvent.objects.filter(pk=event.pk).update(created_at=now - dt.timedelta(days=days_ago))
    for _ in range(attempts):
        DeliveryAttemptFactory(event=event)
    return event


def test_cutoff_is_the_retention_before_now_and_zero_keeps_everything():
    assert retention.cutoff(NOW, 30) == dt.datetime(2026, 10, 31, 12, 0, tzinfo=dt.UTC)
    assert retention.cutoff(NOW, 0) is None


@pytest.mark.django_db
def test_journal_prune_deletes_only_finished_rows_past_the_retention(settings):
    settings.TIKTOK_JOURNAL_RETENTION_DAYS = 30
    for name, status in [
        ("old-processed", Status.PROCESSED),
        ("old-ignored", Status.IGNORED),
        ("old-failed", Status.FAILED),
    ]:
        journal_row(name, status=status, days_ago=31)
    journal_row("old-failed-retry-due", status=Status.FAILED, days_ago=31, retry_due=True)
    journal_row("old-pending", status=Status.PENDING, days_ago=40)
    journal_row("recent-processed", status=Status.PROCESSED, days_ago=29)

    assert journal.prune(now=NOW) == 3
    assert set(WebhookEvent.objects.values_list("dedupe_key", flat=True)) == {
        "old-failed-retry-due",
        "old-pending",
        "recent-processed",
    }
    assert journal.prune(now=NOW) == 0


@pytest.mark.django_db
def test_journal_retention_of_zero_keeps_every_row(settings):
    settings.TIKTOK_JOURNAL_RETENTION_DAYS = 0
    journal_row("ancient", status=Status.PROCESSED, days_ago=3650)
    assert journal.prune(now=NOW) == 0
    assert WebhookEvent.objects.filter(dedupe_key="ancient").exists()


@pytest.mark.django_db
def test_the_journal_task_prunes_by_the_settings(settings):
    settings.TIKTOK_JOURNAL_RETENTION_DAYS = 3
    journal_row("four-days", status=Status.PROCESSED, days_ago=4, now=timezone.now())
    journal_row("two-days", status=Status.PROCESSED, days_ago=2, now=timezone.now())
    assert tiktok_tasks.prune_webhook_journal() == 1
    assert list(WebhookEvent.objects.values_list("dedupe_key", flat=True)) == ["two-days"]


@pytest.mark.django_db
def test_bot_event_prune_deletes_done_events_with_their_attempts(settings):
    settings.BOT_EVENT_RETENTION_DAYS = 30
    delivered = bot_event("old-delivered", status=Delivery.DELIVERED, days_ago=31, attempts=2)
    bot_event("old-failed", status=Delivery.FAILED, days_ago=31, attempts=3)
    bot_event("old-pull-only", status=Delivery.NOT_PUSHED, days_ago=31)
    pending = bot_event("old-pending", status=Delivery.PENDING, days_ago=45, attempts=1)
    bot_event("recent-delivered", status=Delivery.DELIVERED, days_ago=1, attempts=1)

    assert delivery.prune(now=NOW) == 3
    assert set(BotEvent.objects.values_list("dedupe_key", flat=True)) == {"old-pending", "recent-delivered"}
    assert not DeliveryAttempt.objects.filter(event_id=delivered.pk).exists()
    assert DeliveryAttempt.objects.filter(event=pending).count() == 1
    assert DeliveryAttempt.objects.count() == 2


@pytest.mark.django_db
def test_the_bot_event_task_prunes_by_the_settings(settings):
    settings.BOT_EVENT_RETENTION_DAYS = 7
    old = bot_event("eight-days", status=Delivery.DELIVERED, days_ago=8, now=timezone.now())
    bot_event("six-days", status=Delivery.DELIVERED, days_ago=6, now=timezone.now())
    assert client_tasks.prune_bot_events() == 1
    assert not BotEvent.objects.filter(pk=old.pk).exists()
    assert BotEvent.objects.filter(dedupe_key="six-days").exists()


@pytest.mark.django_db
def test_batches_go_on_until_nothing_is_left():
    for n in range(5):
        journal_row(f"row-{n}", status=Status.PROCESSED, days_ago=100)
    rows = WebhookEvent.objects.filter(status=Status.PROCESSED)
    assert retention.delete_in_batches(rows, batch=2) == 5
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_spent_time_budget_stops_after_the_batch_in_hand():
    for n in range(5):
        journal_row(f"row-{n}", status=Status.PROCESSED, days_ago=100)
    ticks = itertools.count(step=4.0)  # every look at the clock is 4 s later
    rows = WebhookEvent.objects.filter(status=Status.PROCESSED)
    assert retention.delete_in_batches(rows, batch=2, budget_seconds=5.0, clock=lambda: next(ticks)) == 4
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_row_put_back_to_work_between_select_and_delete_is_kept():
    row = journal_row("replayed", status=Status.PROCESSED, days_ago=100)
    rows = WebhookEvent.objects.filter(status=Status.PROCESSED)

    class Replayed:
        """The queryset as the batch loop sees it; the replay lands after the ids were read."""

        model = WebhookEvent

        def order_by(self):
            ids = rows.order_by()
            WebhookEvent.objects.filter(pk=row.pk).update(status=Status.PENDING)
            return ids

        def filter(self, **kwargs):
            return rows.filter(**kwargs)

    assert retention.delete_in_batches(Replayed()) == 0
    assert WebhookEvent.objects.filter(pk=row.pk, status=Status.PENDING).exists()


@pytest.mark.parametrize(
    ("journal_days", "bot_days", "errors"),
    [
        (30, 30, []),
        (0, 0, []),
        (3, 1, []),
        (2, 30, ["channels_tiktok.E001"]),
        (-1, 30, ["channels_tiktok.E001"]),
        (30, -1, ["clients.E001"]),
    ],
)
def test_retention_settings_are_checked(settings, journal_days, bot_days, errors):
    settings.TIKTOK_JOURNAL_RETENTION_DAYS = journal_days
    settings.BOT_EVENT_RETENTION_DAYS = bot_days
    found = [m.id for m in checks.run_checks() if m.id in {"channels_tiktok.E001", "clients.E001"}]
    assert found == errors


def test_the_beat_schedules_both_prunes_on_their_queues(settings):
    from config.celery_app import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"channels_tiktok.tasks.prune_webhook_journal", "clients.tasks.prune_bot_events"} <= tasks
    app.loader.import_default_modules()
    assert {"channels_tiktok.tasks.prune_webhook_journal", "clients.tasks.prune_bot_events"} <= set(app.tasks)
    route = app.amqp.router.route
    assert route({}, "channels_tiktok.tasks.prune_webhook_journal")["queue"].name == "inbound"
    assert route({}, "clients.tasks.prune_bot_events")["queue"].name == "outbound"


@pytest.mark.django_db
def test_a_full_default_batch_is_one_statement_the_database_takes():
    """BATCH ids in one DELETE: within the database's limit on parameters (SQLite's included)."""
    old = NOW - dt.timedelta(days=100)
    WebhookEvent.objects.bulk_create(
        WebhookEvent(dedupe_key=f"bulk-{n}", raw_body="{}", status=Status.PROCESSED) for n in range(retention.BATCH + 1)
    )
    WebhookEvent.objects.update(received_at=old)
    assert journal.prune(now=NOW) == retention.BATCH + 1
    assert not WebhookEvent.objects.exists()


def run_command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("prune_retention", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_the_command_counts_then_deletes_what_the_schedule_would(settings):
    settings.TIKTOK_JOURNAL_RETENTION_DAYS = 30
    settings.BOT_EVENT_RETENTION_DAYS = 7
    today = timezone.now()
    for n in range(3):
        journal_row(f"old-{n}", status=Status.PROCESSED, days_ago=31, now=today)
    journal_row("old-pending", status=Status.PENDING, days_ago=31, now=today)
    bot_event("old-delivered", status=Delivery.DELIVERED, days_ago=8, attempts=2, now=today)
    bot_event("new-delivered", status=Delivery.DELIVERED, days_ago=6, now=today)

    out, _err = run_command("--dry-run")
    assert out.splitlines() == [
        "3 journal rows would be deleted (finished, older than 30 days).",
        "1 bot events would be deleted (finished, older than 7 days).",
    ]
    assert (WebhookEvent.objects.count(), BotEvent.objects.count(), DeliveryAttempt.objects.count()) == (4, 2, 2)

    out, err = run_command()
    assert out.splitlines() == [
        "Deleted 3 journal rows (finished, older than 30 days).",
        "Deleted 1 bot events (finished, older than 7 days).",
    ]
    # The progress bars, on stderr.
    assert "3/3" in err
    assert "1/1" in err
    assert list(WebhookEvent.objects.values_list("dedupe_key", flat=True)) == ["old-pending"]
    assert list(BotEvent.objects.values_list("dedupe_key", flat=True)) == ["new-delivered"]
    assert not DeliveryAttempt.objects.exists()


@pytest.mark.django_db
def test_the_command_says_what_is_kept_forever(settings):
    settings.TIKTOK_JOURNAL_RETENTION_DAYS = 0
    settings.BOT_EVENT_RETENTION_DAYS = 0
    journal_row("ancient", status=Status.PROCESSED, days_ago=3650, now=timezone.now())
    out, _err = run_command()
    assert out.splitlines() == [
        "Journal rows: kept forever (TIKTOK_JOURNAL_RETENTION_DAYS is 0).",
        "Bot events: kept forever (BOT_EVENT_RETENTION_DAYS is 0).",
    ]
    assert WebhookEvent.objects.filter(dedupe_key="ancient").exists()
