"""B6 over real HTTP: the product's token handling against the sandbox's expiring, rotating tokens."""

import datetime as dt

import pytest
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients.models import BotEvent
from tests.factories import TikTokAccountFactory
from tests.sandbox import connected_account_tokens

pytestmark = pytest.mark.django_db

MX_BUSINESS = "sbx-acct-mx-001"


@pytest.fixture
def account(sandbox_settings):
    issued = connected_account_tokens(sandbox_settings, account=MX_BUSINESS)
    return TikTokAccountFactory(
        business_id=MX_BUSINESS, access_token=issued["access_token"], refresh_token=issued["refresh_token"]
    )


def _profile(account):
    return tokens.call(account, lambda client: client.get_profile(business_id=account.business_id, fields=["username"]))


def test_an_expired_access_token_is_refreshed_once_and_the_call_retried(sandbox_settings, account):
    sandbox_settings.control.expire_token(account=MX_BUSINESS, which="access")
    old_refresh = account.refresh_token

    assert _profile(account) == {"username": "taqueria_sandbox"}

    account.refresh_from_db()
    assert account.refresh_token != old_refresh
    assert account.access_token == sandbox_settings.sandbox.state.live_grants(MX_BUSINESS)[-1].access_token
    assert account.status == TikTokAccount.Status.ACTIVE


def test_an_expired_authorisation_marks_the_account_and_stops_calls(sandbox_settings, account):
    sandbox_settings.control.expire_token(account=MX_BUSINESS, which="both")

    with pytest.raises(tokens.AccountUnavailableError):
        _profile(account)

    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.NEEDS_REAUTH
    event = BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS)
    assert event.body["data"]["status"] == "needs_reauth"
    with pytest.raises(tokens.AccountUnavailableError):
        _profile(account)
    assert BotEvent.objects.count() == 1  # told once


def test_the_periodic_task_refreshes_tokens_about_to_expire(sandbox_settings, account):
    TikTokAccount.objects.filter(pk=account.pk).update(access_token_expires_at=timezone.now() + dt.timedelta(minutes=9))
    old_token = account.access_token

    counts = tokens.refresh_expiring()

    assert counts["refreshed"] == 1
    account.refresh_from_db()
    assert account.access_token != old_token
    assert account.access_token_expires_at > timezone.now() + dt.timedelta(hours=23)
    assert _profile(account) == {"username": "taqueria_sandbox"}


def test_a_tiktok_outage_during_refresh_keeps_the_account(sandbox_settings, account):
    sandbox_settings.control.inject_failure(
        path=constants.PATH_OAUTH_REFRESH, mode="code", code=constants.CODE_SYSTEM_ERROR
    )

    with pytest.raises(TikTokError) as raised:
        tokens.refresh_access_token(account)

    assert raised.value.code == constants.CODE_SYSTEM_ERROR
    assert raised.value.log_id  # kept for TikTok support
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.ACTIVE
    tokens.refresh_access_token(account)  # the same refresh token still works after the outage
