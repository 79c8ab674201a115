"""B6: concurrent workers refreshing one account make exactly one refresh call (row lock, PostgreSQL)."""

import json
import threading
import time

import pytest
import responses
from django.conf import settings
from django.db import connection, connections

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.models import TikTokAccount
from tests.factories import TikTokAccountFactory

IS_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not IS_POSTGRES, reason="row locks need PostgreSQL (CI runs it)"),
]

REFRESH_URL = settings.TIKTOK_API_BASE_URL + constants.PATH_OAUTH_REFRESH
WORKERS = 8


def test_eight_workers_refreshing_at_once_make_one_call_and_all_end_with_the_new_token(transactional_db):
    account = TikTokAccountFactory(access_token="act.old", refresh_token="rft.old")
    calls = []
    lock = threading.Lock()

    def refresh_endpoint(request):
        with lock:
            calls.append(request.body)
            n = len(calls)
        time.sleep(0.3)  # a slow TikTok widens the window in which the others try
        body = {
            "code": 0,
            "message": "OK",
            "data": {
                "open_id": account.business_id,
                "scope": ",".join(constants.ALL_SCOPES),
                "access_token": f"act.new-{n}",
                "expires_in": 86400,
                "refresh_token": f"rft.new-{n}",
                "refresh_token_expires_in": 31536000,
            },
        }
        return 200, {}, json.dumps(body)

    barrier = threading.Barrier(WORKERS)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker():
        try:
            stale = TikTokAccount.objects.get(pk=account.pk)  # every worker read the old token
            barrier.wait()
            fresh = tokens.refresh_access_token(stale)
            with lock:
                results.append(fresh.access_token)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, REFRESH_URL, callback=refresh_endpoint)
        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert errors == []
    assert len(calls) == 1
    assert results == ["act.new-1"] * WORKERS
    stored = TikTokAccount.objects.get(pk=account.pk)
    assert (stored.access_token, stored.refresh_token) == ("act.new-1", "rft.new-1")
    assert connection.vendor == "postgresql"
