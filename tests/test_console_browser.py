"""The staff's account page in a real browser, English and Russian: every panel on one screen, the chart drawn.
Screenshots go to test-artifacts/."""

import datetime as dt
import os

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.admin.accounts import TikTokAccountAdmin
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


def _admin_page(browser, live_server, admin_user, *, language: str, width: int, height: int):
    """A page of a new browser context logged in as `admin_user`, speaking `language`."""
    login = Client()
    login.force_login(admin_user)
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="ru-RU" if language == "ru" else "en-US"
    )
    cookie = login.cookies[django_settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    context.report = watch(context)  # CSP violations, console messages, requests: asserted by the tests
    return context.new_page()


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
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = _admin_page(browser, live_server, admin_user, language=language, width=1280, height=900)
            report = page.context.report
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


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "ru"])
def test_account_name_is_not_covered_by_the_operation_buttons(transactional_db, live_server, admin_user, language):
    """The account's @username on its page stays whole and visible: the operation buttons sit beside or below it,
    never over it (they used to cover all but the "@"). Checked with the text's and the buttons' boxes."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    account = TikTokAccountFactory(username="taqueria_del_centro_historico", country="MX")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for width in (1280, 900):
                page = _admin_page(browser, live_server, admin_user, language=language, width=width, height=800)
                page.goto(f"{live_server.url}/admin/channels_tiktok/tiktokaccount/{account.pk}/change/")
                title = page.locator("#content h2", has_text="@taqueria_del_centro_historico").first
                expect(title).to_be_visible()
                expect(page.locator("#content h1").first).to_have_text(
                    "Изменить аккаунт TikTok" if language == "ru" else "Change TikTok account"
                )
                # The whole name is drawn inside the page: measure the text itself, not its (full-width) block.
                text_box = page.evaluate(
                    """(el) => { const r = document.createRange(); r.selectNodeContents(el);
                    const b = r.getBoundingClientRect();
                    return {x: b.x, y: b.y, width: b.width, height: b.height}; }""",
                    title.element_handle(),
                )
                assert text_box["width"] > 100
                assert text_box["x"] + text_box["width"] <= width
                buttons = page.locator("#content .object-tools li")
                expect(buttons).to_have_count(len(TikTokAccountAdmin.operation_names()) + 1)  # operations + history
                for index in range(buttons.count()):
                    box = buttons.nth(index).bounding_box()
                    assert not _overlap(text_box, box), (language, width, buttons.nth(index).inner_text())
                # Nothing else is painted over the name: the topmost element at its middle is the heading.
                middle = (text_box["x"] + text_box["width"] / 2, text_box["y"] + text_box["height"] / 2)
                assert page.evaluate(
                    "([x, y, el]) => el.contains(document.elementFromPoint(x, y))", [*middle, title.element_handle()]
                )
                page.screenshot(path=str(ARTIFACTS / f"console-account-title-{language}-{width}.png"))
                page.context.close()
        finally:
            browser.close()
