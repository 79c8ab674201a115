"""System checks of the bot builder side's settings (`manage.py check`, and every start of a process)."""

from django.conf import settings
from django.core import checks


@checks.register()
def bot_event_retention(app_configs=None, **kwargs):
    days = settings.BOT_EVENT_RETENTION_DAYS
    if days >= 0:
        return []
    return [
        checks.Error(
            f"BOT_EVENT_RETENTION_DAYS is {days}: it must be 0 (keep forever) or a number of days.",
            id="clients.E001",
        )
    ]
