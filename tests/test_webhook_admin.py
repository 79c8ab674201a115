"""The webhook journal in the admin: read-only, readable payload, replay."""

import pytest
from django.urls import reverse

from channels_tiktok.models import WebhookEvent
from clients.models import BotEvent, Message
from tests import webhook_cases as wc
from tests.factories import TikTokAccountFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:channels_tiktok_webhookevent_changelist"


def test_changelist_filters_and_search(admin_client):
    account = TikTokAccountFactory()
    WebhookEventFactory(account=account, event="im_receive_msg", status=WebhookEvent.Status.FAILED, error="boom")
    url = reverse(CHANGELIST)
    for query in (
        {},
        {"status__exact": "failed"},
        {"event": "im_receive_msg"},
        {"account__pk__exact": account.pk},
        {"q": "biz"},
    ):
        response = admin_client.get(url, query)
        assert response.status_code == 200
        assert b"boom" in response.content


def test_detail_shows_envelope_and_parsed_content_with_exact_ids(admin_client):
    event = WebhookEventFactory(raw_body=wc.body_of("comment_update_insert").decode(), event="comment.update")
    response = admin_client.get(reverse("admin:channels_tiktok_webhookevent_change", args=[event.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "&quot;comment_id&quot;: 7439122334455667788" in html
    assert "&quot;user_openid&quot;: &quot;" + wc.BUSINESS_ID in html
    assert 'name="status"' not in html  # read-only


def test_detail_of_a_malformed_row(admin_client):
    event = WebhookEventFactory(raw_body="{oops", status=WebhookEvent.Status.FAILED)
    response = admin_client.get(reverse("admin:channels_tiktok_webhookevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert b"body is not JSON" in response.content


def test_journal_cannot_be_added_or_deleted(admin_client):
    assert admin_client.get(reverse("admin:channels_tiktok_webhookevent_add")).status_code == 403


def test_replay_action_reprocesses_idempotently(admin_client, client, django_capture_on_commit_callbacks):
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    row = wc.deliver(client, django_capture_on_commit_callbacks, wc.body_of("im_receive_msg_text"))
    assert (Message.objects.count(), BotEvent.objects.count()) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(CHANGELIST), {"action": "replay", "_selected_action": [row.pk]}, follow=True
        )
    assert response.status_code == 200
    assert b"1 event replayed." in response.content
    row.refresh_from_db()
    assert (row.status, row.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert (Message.objects.count(), BotEvent.objects.count()) == (1, 1)


def test_replay_of_a_row_for_an_account_connected_later(admin_client, client, django_capture_on_commit_callbacks):
    row = wc.deliver(client, django_capture_on_commit_callbacks, wc.body_of("im_receive_msg_text"))
    assert row.status == WebhookEvent.Status.IGNORED
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse(CHANGELIST), {"action": "replay", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == WebhookEvent.Status.PROCESSED
    assert Message.objects.count() == 1
