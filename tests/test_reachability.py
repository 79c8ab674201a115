"""Reachability for the owner (last 30 days): blocked users, images disallowed, windows closed with messages left
or used up, messages queued; on the owner's channels page and the admin's account page, in both languages."""

import datetime as dt
import os

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_tiktok.accounts.reachability import reachability
from channels_tiktok.models import QueuedSend
from clients.models import BotEvent
from tests.browser import watch
from tests.factories import BotEventFactory, ConversationFactory, ProjectFactory, TikTokAccountFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def world(project=None):
    account = TikTokAccountFactory(**({"channel__project": project} if project else {}))
    old = timezone.now() - dt.timedelta(days=40)
    for allowed in (True, True, False):
        ConversationFactory(account=account, image_send_allowed=allowed)
    ConversationFactory(account=account, image_send_allowed=False, last_inbound_at=old)  # outside the 30 days
    channel = account.channel

    def event(event_type, **data):
        return BotEventFactory(project=channel.project, channel=channel, type=event_type, body={"data": data})

    event(BotEvent.Type.CLIENT_MESSAGE_BLOCKED, reason="region")
    event(BotEvent.Type.CLIENT_MESSAGE_BLOCKED, reason="region")
    event(BotEvent.Type.WINDOW_CLOSED, reason="expired")
    event(BotEvent.Type.WINDOW_CLOSED, reason="exhausted")
    event(BotEvent.Type.WINDOW_CLOSED, reason="exhausted")
    stale = event(BotEvent.Type.CLIENT_MESSAGE_BLOCKED)
    BotEvent.objects.filter(pk=stale.pk).update(created_at=old)
    client = account.conversations.first().client
    QueuedSend.objects.create(client=client, text="hi", expires_at=timezone.now() + dt.timedelta(days=7))
    return account


@pytest.mark.django_db
def test_the_figures_count_the_last_30_days_of_the_account(django_assert_max_num_queries):
    account = world()
    world()  # another account's figures stay out
    with django_assert_max_num_queries(6):
        reach = reachability([account.pk])
    assert (reach.blocked, reach.conversations, reach.images_disallowed, reach.images_share) == (2, 3, 1, 33)
    assert (reach.closed_with_messages_left, reach.closed_exhausted, reach.queued) == (1, 2, 1)


@pytest.mark.django_db
def test_the_counts_use_indexes_that_lead_with_the_account():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are read on PostgreSQL")
    account = world()
    with CaptureQueriesContext(connection) as queries:
        reachability([account.pk])
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan, plan


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Reachability, last 30 days"), ("ru", "Доступность за последние 30 дней")]
)
def test_the_panel_on_the_owner_page_and_the_admin_page(language, heading, admin_client):
    owner = UserFactory()
    project = ProjectFactory()
    project.owners.add(owner)
    account = world(project)
    page = Client()
    page.force_login(owner)
    html = page.get("/channels/", headers={"accept-language": language}).content.decode()
    assert heading in html
    assert 'data-figure="images">33%' in html
    admin = admin_client.get(
        f"/admin/channels_tiktok/tiktokaccount/{account.pk}/change/", headers={"accept-language": language}
    ).content.decode()
    assert heading in admin
    assert 'data-figure="closed-exhausted">2<' in admin


@pytest.mark.browser
@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Users who could not reach the bot"), ("ru", "Пользователи, которые не смогли написать боту")],
)
def test_the_panel_in_a_browser(transactional_db, live_server, language, text):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    owner = UserFactory()
    project = ProjectFactory(name="Taqueria bot")
    project.owners.add(owner)
    world(project)
    login = Client()
    login.force_login(owner)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(locale="ru-RU" if language == "ru" else "en-US")
            context.add_cookies(
                [
                    {
                        "name": django_settings.SESSION_COOKIE_NAME,
                        "value": login.cookies[django_settings.SESSION_COOKIE_NAME].value,
                        "url": live_server.url,
                    }
                ]
            )
            report = watch(context)
            page = context.new_page()
            page.goto(live_server.url + "/channels/")
            panel = page.locator("[data-reachability]")
            expect(panel).to_be_visible()
            expect(panel).to_contain_text(text)
            expect(panel.locator('[data-figure="blocked"]')).to_have_text("2")
            expect(panel.locator('[data-figure="queued"]')).to_have_text("1")
            assert report.csp_violations == []
            assert report.errors == []
        finally:
            browser.close()
