"""The owner's channels page in a real browser: Russian and English, desktop and phone widths, a healthy account
and one with missing scopes in an unavailable region. Screenshots go to test-artifacts/."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import TikTokAccount
from tests.browser import watch
from tests.factories import ChannelFactory, ClientFactory, ProjectFactory, TikTokAccountFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}
WITHOUT_COMMENTS = tuple(s for s in constants.ALL_SCOPES if s not in constants.COMMENT_SCOPES)

TEXTS = {
    "en": {
        "heading": "Channels · Taqueria bot",
        "available": "messaging available",
        "unavailable": "messaging unavailable",
        "all granted": "all granted",
        "missing": "missing",
        "not working": "not working: comment callbacks (tiktok_client_new_comment)",
        "fix": "Reconnect the account and allow “comment.list”, “comment.list.manage”",
        "reconnect": "Reconnect",
        "disconnect": "Disconnect",
        "token": "valid",
        "no message": "none yet: a client must write to the account first",
        "notes": "Switch to a business account before connecting",
        "desktop": "Desktop TikTok does not show messages with buttons",
        "connect": "Connect TikTok",
    },
    "ru": {
        "heading": "Каналы · Taqueria bot",
        "available": "сообщения доступны",
        "unavailable": "сообщения недоступны",
        "all granted": "все выданы",
        "missing": "не хватает",
        "not working": "не работает: колбеки о комментариях (tiktok_client_new_comment)",
        "fix": "Переподключите аккаунт и разрешите “comment.list”, “comment.list.manage”",
        "reconnect": "Переподключить",
        "disconnect": "Отключить",
        "token": "действителен",
        "no message": "пока нет: сначала клиент должен написать аккаунту",
        "notes": "Перед подключением переключитесь на бизнес-аккаунт",
        "desktop": "Десктопная версия TikTok не показывает сообщения с кнопками",
        "connect": "Подключить TikTok",
    },
}


@pytest.fixture(scope="module")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread; the ORM stays sync
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _owner_page(browser, live_server, *, language: str, width: str):
    owner = UserFactory()
    project = ProjectFactory(name="Taqueria bot")
    project.owners.add(owner)
    login = Client()
    login.force_login(owner)
    viewport_width, viewport_height = WIDTHS[width]
    context = browser.new_context(
        viewport={"width": viewport_width, "height": viewport_height},
        locale="ru-RU" if language == "ru" else "en-US",  # sent as Accept-Language: the page follows it
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
    return project, context, watch(context)


def _assert_fits_the_screen(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


@pytest.mark.browser
@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_healthy_account(browser, transactional_db, live_server, language, width):
    from playwright.sync_api import expect

    text = TEXTS[language]
    project, context, report = _owner_page(browser, live_server, language=language, width=width)
    account = TikTokAccountFactory(
        channel=ChannelFactory(project=project), username="taqueria", display_name="Taqueria La Güera", country="MX"
    )
    ClientFactory(channel=account.channel, last_message_at=timezone.now() - dt.timedelta(minutes=5))
    page = context.new_page()
    try:
        page.goto(live_server.url + "/channels/")
        expect(page.get_by_role("heading", name=text["heading"])).to_be_visible()
        card = page.locator("section.account")
        expect(card.locator(".username")).to_have_text("@taqueria")
        expect(card.locator(".avatar.initial")).to_have_text("T")
        expect(card.locator(".region")).to_contain_text(text["available"])
        expect(card.locator(".permissions")).to_contain_text(text["all granted"])
        expect(card.locator(".token")).to_contain_text(text["token"])
        expect(card.locator(".last-message")).to_contain_text("5")  # "5 minutes ago" / "5 минут назад"
        expect(card.get_by_role("button", name=text["disconnect"])).to_be_visible()
        expect(card.get_by_role("button", name=text["reconnect"])).to_have_count(0)
        expect(page.get_by_role("button", name=text["connect"])).to_be_visible()
        page.get_by_text(text["notes"]).click()  # the practical notes open
        expect(page.get_by_text(text["desktop"])).to_be_attached()
        _assert_fits_the_screen(page)
        page.screenshot(path=str(ARTIFACTS / f"owner-page-healthy-{language}-{width}.png"), full_page=True)
        assert report.csp_violations == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_account_with_missing_scopes_in_an_unavailable_region(browser, transactional_db, live_server, language, width):
    from playwright.sync_api import expect

    text = TEXTS[language]
    project, context, report = _owner_page(browser, live_server, language=language, width=width)
    TikTokAccountFactory(
        channel=ChannelFactory(project=project),
        username="taqueria_berlin_with_a_rather_long_username",
        country="DE",
        scopes=WITHOUT_COMMENTS,
    )
    page = context.new_page()
    try:
        page.goto(live_server.url + "/channels/")
        card = page.locator("section.account")
        expect(card.locator(".region")).to_contain_text(text["unavailable"])
        expect(card.locator(".permissions")).to_contain_text(text["missing"])
        expect(card.locator(".permissions")).to_contain_text(text["not working"])
        expect(card.locator(".permissions .fix")).to_contain_text(text["fix"])
        expect(card.locator(".last-message")).to_have_text(text["no message"])
        expect(card.get_by_role("button", name=text["reconnect"])).to_be_visible()
        _assert_fits_the_screen(page)
        page.screenshot(path=str(ARTIFACTS / f"owner-page-troubled-{language}-{width}.png"), full_page=True)
        assert report.csp_violations == []
    finally:
        context.close()


@pytest.mark.browser
def test_language_switcher_and_reconnect_of_a_lost_account(browser, transactional_db, live_server, sandbox_settings):
    from playwright.sync_api import expect

    project, context, report = _owner_page(browser, live_server, language="en", width="phone")
    TikTokAccountFactory(
        channel=ChannelFactory(project=project),
        username="taqueria",
        country="MX",
        status=TikTokAccount.Status.NEEDS_REAUTH,
        status_reason="The authorisation expired. Reconnect the account.",
    )
    page = context.new_page()
    try:
        page.goto(live_server.url + "/channels/")
        expect(page.locator(".status-reason")).to_contain_text("The authorisation expired.")
        page.get_by_label("Language").select_option("ru")
        expect(page.get_by_role("heading", name="Каналы · Taqueria bot")).to_be_visible()
        expect(page.locator(".status")).to_have_text("нужно переподключить")
        _assert_fits_the_screen(page)
        page.screenshot(path=str(ARTIFACTS / "owner-page-needs-reauth-ru-phone.png"), full_page=True)

        page.get_by_role("button", name="Переподключить").click()
        page.wait_for_url(f"{sandbox_settings.authorize_url}**")  # straight to TikTok's consent page
        assert "state=" in page.url
        assert report.csp_violations == []
    finally:
        context.close()
