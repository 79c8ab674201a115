"""The account page answers a ticket in one screen: webhook health, windows of recent clients, a 14-day chart of
messages in and out, links to the lists; and the big lists never count or sort what they cannot afford."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.accounts import selectors
from channels_tiktok.models import WebhookEvent
from clients.admin.paginator import COUNT_CAP, CappedCountPaginator
from clients.models import Message
from tests.factories import (
    ClientFactory,
    ConversationFactory,
    MessageFactory,
    TikTokAccountFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db


def _page(admin_client, account) -> str:
    response = admin_client.get(reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _panel(html: str, css_class: str) -> str:
    start = html.index(f'class="{css_class}"')
    return html[start : html.index("</div>", start)]


def test_webhook_panel_when_tiktok_never_called(admin_client):
    account = TikTokAccountFactory()
    panel = _panel(_page(admin_client, account), "webhook-panel")
    assert "No webhook was ever received for this account." in panel
    assert '<span class="failures-24h">0</span>' in panel


def test_webhook_panel_counts_failures_of_the_last_24_hours(admin_client):
    account = TikTokAccountFactory()
    now = timezone.now()
    WebhookEventFactory(account=account, status=WebhookEvent.Status.PROCESSED)
    recent = WebhookEventFactory.create_batch(2, account=account, status=WebhookEvent.Status.FAILED, error="KeyError")
    old = WebhookEventFactory(account=account, status=WebhookEvent.Status.FAILED, error="old")
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=now - dt.timedelta(days=2))
    WebhookEventFactory(status=WebhookEvent.Status.FAILED)  # another account's
    account.last_webhook_at = now
    account.save(update_fields=["last_webhook_at"])

    panel = _panel(_page(admin_client, account), "webhook-panel")

    assert "Webhooks arrive, but some failed to process: replay them." in panel
    assert '<span class="failures-24h">2</span>' in panel
    assert reverse("admin:channels_tiktok_webhookevent_change", args=[recent[-1].pk]) in panel
    assert "KeyError" in panel


def test_webhook_panel_healthy(admin_client):
    account = TikTokAccountFactory()
    WebhookEventFactory(account=account, status=WebhookEvent.Status.PROCESSED)
    panel = _panel(_page(admin_client, account), "webhook-panel")
    assert "Webhooks arrive and are processed." in panel  # last received from the journal when not stamped


def test_windows_panel_shows_each_recent_clients_window(admin_client):
    account = TikTokAccountFactory()
    now = timezone.now()
    ConversationFactory(account=account, client__display_name="Open Olga", window_sent=3, last_inbound_at=now)
    ConversationFactory(
        account=account,
        client__display_name="Used Ugo",
        window_sent=constants.WINDOW_MAX_MESSAGES,
        last_inbound_at=now - dt.timedelta(hours=1),
    )
    ConversationFactory(account=account, client__display_name="Closed Cleo", last_inbound_at=now - dt.timedelta(days=3))

    panel = _panel(_page(admin_client, account), "windows-panel")

    rows = re.findall(r"<tr>(.*?)</tr>", panel)[1:]
    assert "Open Olga" in rows[0]
    assert "open: 7 messages left" in rows[0]
    assert "Used Ugo" in rows[1]
    assert "quota used up" in rows[1]
    assert "Closed Cleo" in rows[2]
    assert "closed: 48 hours passed" in rows[2]


def test_windows_panel_before_any_client_wrote(admin_client):
    panel = _panel(_page(admin_client, TikTokAccountFactory()), "windows-panel")
    assert "No client has written yet." in panel


def test_chart_of_messages_per_day_is_inline_svg(admin_client):
    account = TikTokAccountFactory()
    client = ClientFactory(channel=account.channel, last_message_at=timezone.now())
    MessageFactory.create_batch(3, client=client)
    MessageFactory.create_batch(2, client=client, direction=Message.Direction.OUTBOUND, source="bot", status="sent")
    old = MessageFactory(client=client)
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=20))
    MessageFactory()  # another account's

    panel = _panel(_page(admin_client, account), "chart-panel")

    assert panel.count("<svg") == 1
    assert "<script" not in panel
    assert "Messages per day for the last 14 days: 3 in, 2 out." in panel
    assert len(re.findall(r"<rect ", panel)) == 28  # two bars per day
    assert "last message received" in panel


def test_messages_per_day_fills_empty_days_oldest_first():
    account = TikTokAccountFactory()
    now = timezone.now()
    MessageFactory(client=ClientFactory(channel=account.channel))
    days = selectors.messages_per_day(channel_id=account.pk, now=now)
    assert len(days) == 14
    assert days[-1].day == timezone.localdate(now)
    assert (days[-1].inbound, days[-1].outbound) == (1, 0)
    assert all((d.inbound, d.outbound) == (0, 0) for d in days[:-1])


def test_links_open_the_lists_filtered_to_the_account(admin_client):
    account = TikTokAccountFactory()
    panel = _panel(_page(admin_client, account), "links-panel")
    assert f"{reverse('admin:clients_message_changelist')}?channel={account.pk}" in panel
    assert (
        f"{reverse('admin:channels_tiktok_webhookevent_changelist')}?account={account.pk}&amp;status__exact=failed"
        in (panel)
    )


def test_capped_paginator_never_counts_past_the_cap():
    MessageFactory.create_batch(3)
    paginator = CappedCountPaginator(Message.objects.order_by("-id"), 2)
    assert paginator.count == 3
    assert COUNT_CAP == 10_000


@pytest.mark.parametrize(
    "url",
    [
        "admin:clients_message_changelist",
        "admin:channels_tiktok_webhookevent_changelist",
        "admin:clients_client_changelist",
        "admin:clients_botevent_changelist",
        "admin:clients_deliveryattempt_changelist",
        "admin:channels_tiktok_conversation_changelist",
    ],
)
def test_big_lists_use_capped_counts_and_sort_only_by_id(admin_client, url):
    response = admin_client.get(reverse(url), {"o": "3"})  # a request to sort by another column is ignored
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert isinstance(changelist.paginator, CappedCountPaginator)
    assert changelist.show_full_result_count is False
    assert changelist.model_admin.sortable_by == ("id",)
    assert set(changelist.get_ordering(response.wsgi_request, changelist.queryset)) == {"-pk"}
