"""R1 in a real browser: the owner presses "Connect TikTok", allows on the sandbox's consent page, and is back
on the channels page with the success message and the account."""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.browser import watch
from tests.factories import ProjectFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"


@pytest.mark.browser
def test_owner_connects_tiktok_in_a_browser(transactional_db, live_server, sandbox_settings, settings):
    # Playwright's sync API runs an event loop in this thread; the ORM calls below are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    settings.TIKTOK_REDIRECT_URI = live_server.url + "/tiktok/oauth/callback/"
    settings.TIKTOK_WEBHOOK_CALLBACK_URL = live_server.url + "/webhooks/tiktok/"
    owner = UserFactory()
    project = ProjectFactory(name="Taqueria bot")
    project.owners.add(owner)
    login = Client()
    login.force_login(owner)
    assert login.session[SESSION_KEY] == str(owner.pk)
    session_cookie = login.cookies[django_settings.SESSION_COOKIE_NAME].value

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            context = browser.new_context()
            context.add_cookies(
                [{"name": django_settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
            )
            report = watch(context)
            page = context.new_page()
            page.goto(live_server.url + "/channels/")
            expect(page.get_by_role("heading", name="Channels · Taqueria bot")).to_be_visible()

            page.get_by_label("Country the TikTok account is registered in").select_option("MX")
            page.get_by_role("button", name="Connect TikTok").click()

            # TikTok's (the sandbox's) consent page.
            expect(page.get_by_text("wants to access your TikTok account")).to_be_visible()
            assert page.url.startswith(sandbox_settings.authorize_url)
            page.get_by_label("@taqueria_sandbox").check()
            page.get_by_role("button", name="Authorize").click()

            # Back on the channels page.
            page.wait_for_url(f"{live_server.url}/channels/**")
            expect(page.get_by_text("TikTok account @taqueria_sandbox connected.")).to_be_visible()
            card = page.locator("section.account")
            expect(card).to_have_count(1)
            expect(card.locator(".username")).to_have_text("@taqueria_sandbox")
            expect(card.locator(".status")).to_have_text("active")
            expect(card.locator(".region")).to_contain_text("messaging available")
            expect(card.locator(".permissions")).to_contain_text("all granted")
            page.screenshot(path=str(ARTIFACTS / "connect-tiktok-success.png"), full_page=True)
            assert report.csp_violations == []
        finally:
            browser.close()

    assert project.channels.get().tiktok_account.username == "taqueria_sandbox"
