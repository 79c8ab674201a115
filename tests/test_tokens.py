"""Token refresh (B6) against TikTok's wire format, mocked at the HTTP boundary."""

import datetime as dt
import json

import pytest
import responses
from django.conf import settings
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients.models import BotEvent
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

REFRESH_URL = settings.TIKTOK_API_BASE_URL + constants.PATH_OAUTH_REFRESH
PROFILE_URL = settings.TIKTOK_API_BASE_URL + constants.PATH_BUSINESS_GET


def _token_answer(n: int, scopes=constants.ALL_SCOPES) -> dict:
    return {
        "code": 0,
        "message": "OK",
        "request_id": f"req-{n}",
        "data": {
            "open_id": "biz",
            "scope": ",".join(scopes),
            "access_token": f"act.new-{n}",
            "expires_in": 86400,
            "refresh_token": f"rft.new-{n}",
            "refresh_token_expires_in": 31536000,
            "token_type": "Bearer",
        },
    }


def _error(code: int, message="error") -> dict:
    return {"code": code, "message": message, "request_id": "req-x", "data": {}}


@responses.activate
def test_refresh_stores_the_rotated_tokens_and_their_lifetimes():
    account = TikTokAccountFactory(refresh_token="rft.old")
    responses.post(REFRESH_URL, json=_token_answer(1))

    fresh = tokens.refresh_access_token(account)

    sent = json.loads(responses.calls[0].request.body)
    assert sent == {
        "client_id": settings.TIKTOK_APP_ID,
        "client_secret": settings.TIKTOK_APP_SECRET[0],
        "grant_type": "refresh_token",
        "refresh_token": "rft.old",
    }
    stored = TikTokAccount.objects.get(pk=account.pk)
    assert stored.access_token == fresh.access_token == "act.new-1"
    assert stored.refresh_token == "rft.new-1"
    assert stored.access_token_expires_at - stored.token_refreshed_at == dt.timedelta(seconds=86400)
    assert stored.refresh_token_expires_at - stored.token_refreshed_at == dt.timedelta(seconds=31536000)
    assert stored.status == TikTokAccount.Status.ACTIVE


@responses.activate
def test_refresh_reporting_fewer_scopes_syncs_them_and_tells_the_bot():
    account = TikTokAccountFactory()
    narrowed = tuple(s for s in constants.ALL_SCOPES if s not in constants.COMMENT_SCOPES)
    responses.post(REFRESH_URL, json=_token_answer(1, scopes=narrowed))

    tokens.refresh_access_token(account)

    assert set(account.scopes.values_list("scope", flat=True)) == set(narrowed)
    event = BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS)
    assert event.body["data"]["status"] == "scopes_changed"
    assert event.body["data"]["removed"] == sorted(constants.COMMENT_SCOPES)


@responses.activate
def test_refresh_refused_for_good_marks_needs_reauth_tells_the_bot_and_stops_calls():
    account = TikTokAccountFactory()
    responses.post(REFRESH_URL, json=_error(constants.CODE_REFRESH_TOKEN_EXPIRED, "refresh token expired"))

    with pytest.raises(tokens.AccountUnavailableError):
        tokens.refresh_access_token(account)

    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.NEEDS_REAUTH
    assert "Reconnect" in account.status_reason
    event = BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS)
    assert event.body["type"] == "account.status"
    assert event.body["account"] == {"id": account.pk, "business_id": account.business_id, "username": account.username}
    assert event.body["data"]["status"] == "needs_reauth"

    # No further call is made with it: neither a resource call nor another refresh.
    calls_before = len(responses.calls)
    with pytest.raises(tokens.AccountUnavailableError):
        tokens.call(account, lambda client: client.get_profile(business_id=account.business_id))
    with pytest.raises(tokens.AccountUnavailableError):
        tokens.refresh_access_token(account)
    assert len(responses.calls) == calls_before


@responses.activate
def test_transient_refresh_failure_keeps_the_account_active():
    account = TikTokAccountFactory(access_token="act.keep")
    responses.post(REFRESH_URL, json=_error(constants.CODE_SYSTEM_ERROR))

    with pytest.raises(TikTokError) as raised:
        tokens.refresh_access_token(account)

    assert raised.value.code == constants.CODE_SYSTEM_ERROR
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.ACTIVE
    assert account.access_token == "act.keep"
    assert not BotEvent.objects.exists()


@responses.activate
def test_refresh_is_skipped_when_another_worker_already_refreshed():
    account = TikTokAccountFactory(access_token="act.seen")
    stale = TikTokAccount.objects.get(pk=account.pk)
    account.access_token = "act.other"  # what a concurrent worker stored meanwhile
    account.save()

    fresh = tokens.refresh_access_token(stale)

    assert fresh.access_token == "act.other"
    assert len(responses.calls) == 0


@responses.activate
def test_call_refreshes_once_and_retries_once_on_an_expired_token():
    account = TikTokAccountFactory(access_token="act.old")
    responses.get(PROFILE_URL, json=_error(constants.CODE_ACCESS_TOKEN_EXPIRED))
    responses.get(PROFILE_URL, json={"code": 0, "message": "OK", "data": {"username": "shop"}})
    responses.post(REFRESH_URL, json=_token_answer(1))

    data = tokens.call(account, lambda client: client.get_profile(business_id=account.business_id))

    assert data == {"username": "shop"}
    headers = [call.request.headers.get(constants.ACCESS_TOKEN_HEADER) for call in responses.calls]
    assert headers == ["act.old", None, "act.new-1"]


@responses.activate
def test_call_marks_needs_reauth_when_the_fresh_token_is_rejected_too():
    account = TikTokAccountFactory()
    responses.get(PROFILE_URL, json=_error(constants.CODE_INVALID_ACCESS_TOKEN))
    responses.post(REFRESH_URL, json=_token_answer(1))

    with pytest.raises(tokens.AccountUnavailableError):
        tokens.call(account, lambda client: client.get_profile(business_id=account.business_id))

    assert len(responses.calls) == 3  # call, refresh, one retry: no more
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.NEEDS_REAUTH


@responses.activate
def test_call_refreshes_first_when_the_token_is_known_to_be_expired():
    account = TikTokAccountFactory(access_token_expires_at=timezone.now() - dt.timedelta(minutes=1))
    responses.post(REFRESH_URL, json=_token_answer(1))
    responses.get(PROFILE_URL, json={"code": 0, "message": "OK", "data": {}})

    tokens.call(account, lambda client: client.get_profile(business_id=account.business_id))

    assert [call.request.url.split("?")[0] for call in responses.calls] == [REFRESH_URL, PROFILE_URL]


@responses.activate
def test_periodic_refresh_takes_only_active_accounts_expiring_soon():
    now = timezone.now()
    due = TikTokAccountFactory(access_token_expires_at=now + dt.timedelta(minutes=30))
    TikTokAccountFactory(access_token_expires_at=now + dt.timedelta(hours=20))
    TikTokAccountFactory(access_token_expires_at=now, status=TikTokAccount.Status.NEEDS_REAUTH)
    responses.post(REFRESH_URL, json=_token_answer(1))

    counts = tokens.refresh_expiring()

    assert counts == {"refreshed": 1, "skipped": 0, "needs_reauth": 0, "failed": 0}
    assert len(responses.calls) == 1
    due.refresh_from_db()
    assert due.access_token == "act.new-1"


@responses.activate
def test_periodic_refresh_task_runs_the_service():
    from channels_tiktok.tasks import refresh_expiring_tokens

    TikTokAccountFactory(access_token_expires_at=timezone.now() + dt.timedelta(minutes=5))
    responses.post(REFRESH_URL, json=_token_answer(1))

    assert refresh_expiring_tokens()["refreshed"] == 1


def test_client_for_refuses_accounts_that_are_not_active():
    account = TikTokAccountFactory(status=TikTokAccount.Status.DISCONNECTED, status_reason="Disconnected by the owner.")

    with pytest.raises(tokens.AccountUnavailableError) as raised:
        tokens.client_for(account)

    assert raised.value.reason == "Disconnected by the owner."
