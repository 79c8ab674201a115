"""The dev server (`make run`: config.settings.dev, SQLite, no broker, tasks in-process) answers a webhook as
production does: journaled, 200 at once; the processing, TikTok's calls included, runs right after in the
process's wake-up thread, off the request."""

import importlib
import json
import time

import pytest
import responses

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal
from clients.models import BotEvent
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory

API = "https://business-api.tiktok.com/open_api/v1.3/"
SLOW_SECONDS = 2.0


@pytest.mark.django_db(transaction=True)
def test_under_the_dev_settings_a_slow_tiktok_does_not_hold_the_webhooks_answer(client, settings):
    dev = importlib.import_module("config.settings.dev")
    assert dev.CELERY_TASK_ALWAYS_EAGER  # no broker: tasks run in-process
    settings.TIKTOK_WEBHOOK_WAKEUP_SECONDS = dev.TIKTOK_WEBHOOK_WAKEUP_SECONDS
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    asked = []

    def slow_comment_list(request):
        asked.append(request.params["comment_ids"])
        time.sleep(SLOW_SECONDS)
        comment = {"comment_id": int(wc.COMMENT_ID), "text": "hola", "unique_identifier": wc.USER_ID}
        return 200, {}, json.dumps({"code": 0, "data": {"comments": [comment]}})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as tiktok:
        tiktok.add_callback(responses.GET, API + constants.PATH_COMMENT_LIST, callback=slow_comment_list)
        started = time.monotonic()
        response = wc.post(client, wc.body_of("comment_update_insert"))
        answered = time.monotonic() - started
        assert response.status_code == 200
        assert answered < 1.0, f"the webhook took {answered:.2f} s to answer"
        # Processing follows off the request, in the wake-up thread (the test touches the database again only
        # once it is done: SQLite's shared in-memory test database locks whole tables).
        assert journal.wakeups().settle(timeout=SLOW_SECONDS + 10)
    assert len(asked) == 1
    row = WebhookEvent.objects.get()
    assert row.status == WebhookEvent.Status.PROCESSED, row.error
    [told] = BotEvent.objects.values_list("body", flat=True)
    assert told["text"].endswith(": hola")
