"""Celery tasks of the TikTok channel: thin wrappers around services."""

from celery import shared_task

from . import tokens


# ---------------------------------------------------------------------------------- tokens: B6
@shared_task(name="channels_tiktok.tasks.refresh_expiring_tokens")
def refresh_expiring_tokens() -> dict[str, int]:
    return tokens.refresh_expiring()
