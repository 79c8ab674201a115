"""The staff's account page in a real browser, English and Russian: every panel on one screen, the chart drawn.
Screenshots go to test-artifacts/."""

import datetime as dt
import os

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from clients.models import Message
from tests.browser import watch
from tests.factories import (
    ClientFactory,
    ConversationFactory,
    MessageFactory,
    TikTokAccountFactory,
    WebhookEventFactory,
)
from tests.test_owner_page_browser import ARGS, ARTIFACTS, CHROMIUM

WITHOUT_COMMENTS = tuple(s for s in constants.ALL_SCOPES if s not in constants.COMMENT_SCOPES)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "ru"])
def test_account_page_in_a_browser(transactional_db, live_server, admin_user, language):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    account = TikTokAccountFactory(username="taqueria", country="BR", scopes=WITHOUT_COMMENTS)
    now = timezone.now()
    for days_ago in range(14):
        client = ClientFactory(channel=account.channel, last_message_at=now)
        ConversationFactory(account=account, client=client, window_sent=days_ago % 11, last_inbound_at=now)
        for _ in range(days_ago % 5 + 1):
            inbound = MessageFactory(client=client)
            outbound = MessageFactory(client=client, direction="out", source="bot", status="sent")
            Message.objects.filter(pk__in=[inbound.pk, outbound.pk]).update(
                created_at=now - dt.timedelta(days=days_ago)
            )
    WebhookEventFactory(account=account, status=WebhookEvent.Status.FAILED, error="KeyError: 'conversation_id'")
    login = Client()
    login.force_login(admin_user)

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="ru-RU" if language == "ru" else "en-US"
            )
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
            page.goto(f"{live_server.url}/admin/channels_tiktok/tiktokaccount/{account.pk}/change/")
            expect(page.locator("svg.messages-chart rect")).to_have_count(28)
            expect(page.locator(".windows-panel tbody tr")).to_have_count(10)
            expect(page.locator(".failures-24h")).to_have_text("1")
            panel_text = {
                "en": ("Some scopes are missing", "Messaging available", "Webhooks arrive, but some failed"),
                "ru": ("Не хватает некоторых разрешений", "Сообщения доступны", "Вебхуки приходят, но часть"),
            }[language]
            for text in panel_text:
                expect(page.get_by_text(text).first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / f"console-account-page-{language}.png"), full_page=True)
            assert report.csp_violations == []
        finally:
            browser.close()
