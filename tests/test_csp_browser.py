"""The product's pages under their Content-Security-Policy in a real browser: the API docs (Swagger UI, ReDoc),
the owner's channels page, the admin's index and a change page load nothing from another origin, say nothing on
the console and break no rule of the policy."""

import os

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.browser import watch
from tests.factories import ChannelFactory, ClientFactory, ProjectFactory, TikTokAccountFactory
from tests.test_owner_page_browser import ARGS, CHROMIUM


@pytest.fixture
def pages(transactional_db, admin_user):
    project = ProjectFactory(name="Taqueria bot")
    project.owners.add(admin_user)
    account = TikTokAccountFactory(channel=ChannelFactory(project=project), username="taqueria", avatar_url="")
    ClientFactory(channel=account.channel)
    return {
        "swagger": ("/api/docs/", "#swagger-ui .information-container"),
        "redoc": ("/api/redoc/", "#redoc-container .api-content"),
        "channels": ("/channels/", "section.account"),
        "admin index": ("/admin/", "#content-main"),
        "admin change page": (f"/admin/channels_tiktok/tiktokaccount/{account.pk}/change/", "svg.messages-chart"),
        "admin project page": (f"/admin/clients/project/{project.pk}/change/", "#project_form"),
        "API keys": (f"/api-keys/?project={project.pk}", "table.keys, form"),
        "admin API key form": ("/admin/clients/apikey/add/", "form"),
    }


@pytest.mark.browser
def test_pages_keep_to_their_content_security_policy(live_server, admin_user, pages):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import expect, sync_playwright

    login = Client()
    login.force_login(admin_user)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context()
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
            for name, (path, ready) in pages.items():
                response = page.goto(live_server.url + path)
                assert response.status == 200, name
                assert "script-src 'self'" in response.headers["content-security-policy"], name
                expect(page.locator(ready).first).to_be_attached(timeout=15_000)
                page.wait_for_load_state("networkidle")
            # Disconnecting asks first (static/site/page.js, no inline handler): dismissed, nothing happens.
            questions = []
            page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
            page.goto(live_server.url + "/channels/")
            page.get_by_role("button", name="Disconnect").click()
            assert questions == ["Disconnect this TikTok account? The bot will stop receiving its messages."]
            expect(page.locator("section.account .status")).to_have_text("active")
            # The login page, with the session gone.
            context.clear_cookies()
            page.goto(live_server.url + "/admin/login/")
            expect(page.locator("#login-form")).to_be_visible()
            page.goto(live_server.url + "/login/")
            expect(page.locator("form input[name=password]")).to_be_visible()
        finally:
            browser.close()

    assert report.csp_violations == []
    assert report.console == []
    assert report.errors == []
    assert report.requests
    assert report.foreign_requests(live_server.url) == []
    # Swagger UI, ReDoc and their start scripts came from our own static files.
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "api_docs/redoc.js"):
        assert any(asset in url for url in report.requests), asset
