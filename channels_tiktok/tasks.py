"""Celery tasks of the TikTok channel: thin wrappers around services."""

from celery import shared_task

from channels_tiktok.accounts import tokens
from channels_tiktok.messaging import queue, window_events
from channels_tiktok.webhooks import journal, processing


# ---------------------------------------------------------------------------------- webhook journal
@shared_task(name="channels_tiktok.tasks.process_webhook_event")
def process_webhook_event(*event_ids: int) -> int:
    return processing.drain(*event_ids)


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


@shared_task(name="channels_tiktok.tasks.store_inbound_media")
def store_inbound_media(channel_id: int, message_id: str, attempt: int = 0) -> str:
    """Copy an inbound image or video into storage; retried with backoff, then reported on the message."""
    from django.conf import settings

    from channels_tiktok.tiktok.client import TikTokError
    from channels_tiktok.webhooks import media
    from clients.models import Message

    message = (
        Message.objects.filter(channel_id=channel_id, external_id=message_id, direction=Message.Direction.INBOUND)
        .select_related("client")
        .first()
    )
    if message is None:
        return "gone"
    try:
        media.store(message)
    except (media.MediaError, TikTokError, tokens.AccountUnavailableError) as exc:
        reason = str(getattr(exc, "message", None) or exc)
        if attempt < settings.TIKTOK_MEDIA_RETRIES:
            countdown = settings.TIKTOK_MEDIA_RETRY_BACKOFF_SECONDS * 2**attempt
            store_inbound_media.apply_async((channel_id, message_id, attempt + 1), countdown=countdown)
            return "retrying"
        media.report_failure(message, reason)
        return "failed"
    return "stored"


# ---------------------------------------------------------------------------------- window events
@shared_task(name="channels_tiktok.tasks.emit_window_events")
def emit_window_events() -> dict[str, int]:
    return window_events.emit_due()


@shared_task(name="channels_tiktok.tasks.sweep_queued_messages")
def sweep_queued_messages() -> dict[str, int]:
    return {"expired": queue.expire_due(), "flushed_clients": queue.flush_open()}
