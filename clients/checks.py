"""System checks of the bot builder side's settings (`manage.py check`, and every start of a process)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


@checks.register()
def bot_event_retention(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    days = settings.BOT_EVENT_RETENTION_DAYS
    if days >= 0:
        return []
    return [
        checks.Error(
            f"BOT_EVENT_RETENTION_DAYS is {days}: it must be 0 (keep forever) or a number of days.",
            id="clients.E001",
        )
    ]


# Encryption keys committed to the repository (the development and test defaults in config/settings, the loopback
# stack's in scripts/stack.py): anyone can read what they encrypt.
PUBLIC_ENCRYPTION_KEYS = frozenset({"Z3nq2eA2rX2XxqgG1mJ8Xw3k0i3O2b2w5cQ7Wm1yqfU="})


@checks.register(checks.Tags.security, deploy=True)
def public_encryption_key(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: tokens at rest must not be encrypted with a key everyone has."""
    if not PUBLIC_ENCRYPTION_KEYS.intersection(settings.FIELD_ENCRYPTION_KEYS):
        return []
    return [
        checks.Error(
            "FIELD_ENCRYPTION_KEYS holds the development key committed to the repository.",
            hint="Generate a key of your own (Fernet.generate_key()), put it first, and keep the development key "
            "out of the list once the stored tokens are re-encrypted.",
            id="clients.E002",
        )
    ]
