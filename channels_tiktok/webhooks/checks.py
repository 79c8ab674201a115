"""System checks of the channel's settings (`manage.py check`, and every start of a process)."""

import math
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from channels_tiktok import constants

# The journal must remember a delivery for as long as TikTok may send it again (docs/tiktok-api.md §5).
MIN_JOURNAL_RETENTION_DAYS = math.ceil(constants.WEBHOOK_RETRY_HOURS / 24)


@checks.register()
def journal_retention(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    days = settings.TIKTOK_JOURNAL_RETENTION_DAYS
    if days == 0 or days >= MIN_JOURNAL_RETENTION_DAYS:
        return []
    return [
        checks.Error(
            f"TIKTOK_JOURNAL_RETENTION_DAYS is {days}: it must be 0 (keep forever) or at least "
            f"{MIN_JOURNAL_RETENTION_DAYS}.",
            hint=f"TikTok retries a delivery for {constants.WEBHOOK_RETRY_HOURS} hours; a journal row deleted sooner "
            "would let a retry be processed twice.",
            id="channels_tiktok.E001",
        )
    ]


# App secrets that are public: the sandbox's (channels_tiktok/sandbox, scripts/stack.py) and the test settings'.
PUBLIC_APP_SECRETS = frozenset({"sandbox-secret", "test-secret", "old-test-secret"})


@checks.register(checks.Tags.security, deploy=True)
def public_app_secret(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: with a public app secret anyone can sign a webhook delivery."""
    if not PUBLIC_APP_SECRETS.intersection(settings.TIKTOK_APP_SECRET):
        return []
    return [
        checks.Error(
            "TIKTOK_APP_SECRET holds the TikTok sandbox's public secret.",
            hint="Set the app secret TikTok's developer portal shows for your app: with the sandbox's anyone can "
            "sign webhook deliveries.",
            id="channels_tiktok.E002",
        )
    ]
