"""Celery tasks of the TikTok channel: thin wrappers around services."""

from celery import shared_task

from channels_tiktok.accounts import tokens
from channels_tiktok.messaging import queue, window_events
from channels_tiktok.webhooks import journal


# ---------------------------------------------------------------------------------- webhook journal
@shared_task(name="channels_tiktok.tasks.process_webhook_event")
def process_webhook_event(event_id: int) -> int:
    return journal.drain(event_id=event_id)


@shared_task(name="channels_tiktok.tasks.sweep_webhook_events")
def sweep_webhook_events() -> int:
    return journal.sweep()


@shared_task(name="channels_tiktok.tasks.prune_webhook_journal")
def prune_webhook_journal() -> int:
    return journal.prune()


# ---------------------------------------------------------------------------------- tokens: B6
@shared_task(name="channels_tiktok.tasks.refresh_expiring_tokens")
def refresh_expiring_tokens() -> dict[str, int]:
    return tokens.refresh_expiring()


# ---------------------------------------------------------------------------------- window events
@shared_task(name="channels_tiktok.tasks.emit_window_events")
def emit_window_events() -> dict[str, int]:
    return window_events.emit_due()


@shared_task(name="channels_tiktok.tasks.sweep_queued_messages")
def sweep_queued_messages() -> dict[str, int]:
    return {"expired": queue.expire_due(), "flushed_clients": queue.flush_open()}
