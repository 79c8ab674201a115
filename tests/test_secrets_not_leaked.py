"""B6: no token, refresh token or app secret appears in logs (DEBUG included), admin pages or API responses."""

import json
import logging

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from channels_tiktok.accounts import tokens
from channels_tiktok.accounts.services import recheck_account, subscribe_webhooks
from channels_tiktok.models import TikTokAccount
from clients.api_keys import create_api_key
from tests.connect_flow import consent, finish, start_connect
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

# The sandbox plays TikTok: what it logs is TikTok's side of the wire, not ours.
NOT_OURS = ("channels_tiktok.sandbox",)


def _secrets(sandbox) -> set[str]:
    issued = {grant.access_token for grant in sandbox.sandbox.state.grants}
    issued |= {grant.refresh_token for grant in sandbox.sandbox.state.grants}
    return issued | set(settings.TIKTOK_APP_SECRET)


def _log_text(records) -> str:
    """Everything a log handler could print: the message, its arguments and every structured extra."""
    ours = [r for r in records if not r.name.startswith(NOT_OURS)]
    return "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in ours)


def test_connect_refresh_recheck_and_disconnect_leak_no_secret(client, sandbox_settings, caplog):
    caplog.set_level(logging.DEBUG)
    owner = UserFactory(is_staff=True, is_superuser=True)
    project = ProjectFactory()
    project.owners.add(owner)
    client.force_login(owner)

    # The whole life of an account: connect, refresh (periodic and on demand), re-check, webhooks, disconnect.
    finish(client, consent(start_connect(client, project=project)))
    account = TikTokAccount.objects.get()
    tokens.refresh_access_token(account)
    account = TikTokAccount.objects.get()
    tokens.call(account, lambda tiktok: tiktok.get_profile(business_id=account.business_id, fields=["username"]))
    recheck_account(account=account)
    subscribe_webhooks(account=account, force=True)

    _key, raw_key = create_api_key(project=project, name="leak-check")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    surfaces = {
        "api list": json.dumps(api.get("/api/v1/tiktok/accounts/").json()),
        "api detail": json.dumps(api.get(f"/api/v1/tiktok/accounts/{account.pk}/").json()),
        "admin change": client.get(reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk])).content,
        "admin list": client.get(reverse("admin:channels_tiktok_tiktokaccount_changelist")).content,
        "channels page": client.get(reverse("channels")).content,
    }
    client.post(reverse("tiktok-disconnect", args=[account.pk]))

    secrets = _secrets(sandbox_settings)
    assert len(secrets) >= 4  # two grants (connect, refresh) + the app secrets
    logged = _log_text(caplog.records)
    assert "tiktok.oauth.exchanged" in logged  # DEBUG capture did see the flow
    assert "tiktok.token.refreshed" in logged
    for secret in secrets:
        assert secret not in logged
        for name, body in surfaces.items():
            text = body.decode() if isinstance(body, bytes) else body
            assert secret not in text, name
    assert logging.getLogger("requests_oauthlib").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("urllib3").getEffectiveLevel() >= logging.WARNING
