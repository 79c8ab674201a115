"""Bot events in the admin: status, attempts, re-deliver."""

import pytest
import responses
from django.urls import reverse

from clients.models import BotEvent
from tests.factories import BotEventFactory, DeliveryAttemptFactory, ProjectFactory

pytestmark = pytest.mark.django_db

HOOK = "https://bot.example.com/hook"


def test_changelist_and_detail(admin_client):
    event = BotEventFactory(status=BotEvent.DeliveryStatus.FAILED, attempts=7)
    DeliveryAttemptFactory(event=event, response_status=500, error="HTTP 500", response_body="down for maintenance")
    response = admin_client.get(reverse("admin:clients_botevent_changelist"), {"status__exact": "failed"})
    assert response.status_code == 200
    assert str(event.pk).encode() in response.content
    detail = admin_client.get(reverse("admin:clients_botevent_change", args=[event.pk]))
    assert detail.status_code == 200
    assert b"down for maintenance" in detail.content
    assert b"&quot;text&quot;: &quot;hello&quot;" in detail.content


def test_redeliver_action(admin_client, django_capture_on_commit_callbacks):
    pushed = BotEventFactory(project=ProjectFactory(callback_url=HOOK), status=BotEvent.DeliveryStatus.FAILED)
    pull_only = BotEventFactory(status=BotEvent.DeliveryStatus.NOT_PUSHED)
    with responses.RequestsMock() as bot:
        bot.post(HOOK, status=200)
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse("admin:clients_botevent_changelist"),
                {"action": "redeliver", "_selected_action": [pushed.pk, pull_only.pk]},
                follow=True,
            )
        assert len(bot.calls) == 1
    assert b"1 event queued." in response.content
    assert b"1 skipped" in response.content
    pushed.refresh_from_db()
    pull_only.refresh_from_db()
    assert (pushed.status, pushed.attempts) == (BotEvent.DeliveryStatus.DELIVERED, 1)
    assert pull_only.status == BotEvent.DeliveryStatus.NOT_PUSHED
