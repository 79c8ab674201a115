"""A connected account whose TikTok is the sandbox, a bot API client, and Lucía who just wrote (her window is
open): the bot's calls go to our API in the test's thread; our calls to TikTok reach the sandbox over HTTP; the
sandbox's webhooks come back into the Django test client (`sandbox_to_django`)."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok import ratelimit
from clients.api_keys import create_api_key
from clients.models import Client
from tests.factories import ProjectFactory, TikTokAccountFactory

ACCOUNT = "sbx-acct-mx-001"
USER = "sbx-user-lucia"


@dataclass
class World:
    sandbox: object
    api: APIClient
    account: TikTokAccount
    client: Client | None

    @property
    def control(self):
        return self.sandbox.control

    def calls(self, path: str) -> list[dict]:
        return self.control.api_calls(path=path)

    def process(self) -> None:
        """Deliver the sandbox's waiting webhooks (echoes) and process the journal, as the worker would."""
        self.control.flush_deliveries()
        process_journal()


def process_journal() -> None:
    from channels_tiktok.models import WebhookEvent
    from channels_tiktok.webhooks import processing

    first = WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).order_by("pk").first()
    if first is not None:
        processing.drain(first.pk)


def build_world(sandbox, *, write: bool = True, scopes=None) -> World:
    from django.core.cache import cache

    cache.clear()
    ratelimit.reset()
    tokens = sandbox.control.issue_token(account=ACCOUNT, scopes=scopes)
    project = ProjectFactory()
    account = TikTokAccountFactory(
        channel__project=project,
        business_id=tokens["open_id"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )
    if scopes is not None:
        account.scopes.exclude(scope__in=scopes).delete()
    _key, raw = create_api_key(project=project, name="bot")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    client = None
    if write:
        wrote = sandbox.control.user_writes(account=ACCOUNT, user=USER, text="Hola")
        assert wrote["delivery"]["http_status"] == 200
        process_journal()
        client = Client.objects.get(channel=account.channel)
    return World(sandbox=sandbox, api=api, account=account, client=client)


@pytest.fixture
def world(sandbox_to_django, db):
    return build_world(sandbox_to_django)
