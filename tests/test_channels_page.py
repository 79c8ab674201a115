"""The owner's channels page: login, project choice, what it shows about each account."""

import html
import re

import pytest
from django.urls import reverse

from channels_tiktok import constants
from channels_tiktok.models import TikTokAccount
from tests.factories import ChannelFactory, ProjectFactory, TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    user = UserFactory()
    client.force_login(user)
    return user


def _owned_project(owner, **kwargs):
    project = ProjectFactory(**kwargs)
    project.owners.add(owner)
    return project


def _page(client, **params) -> str:
    response = client.get(reverse("channels"), params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_page_needs_a_login(client):
    response = client.get(reverse("channels"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_first_project_and_only_its_accounts(client, owner):
    first = _owned_project(owner, name="First bot")
    second = _owned_project(owner, name="Second bot")
    TikTokAccountFactory(channel=ChannelFactory(project=first), username="first_shop")
    TikTokAccountFactory(channel=ChannelFactory(project=second), username="second_shop")
    TikTokAccountFactory(username="strangers_shop")

    default = _page(client)
    chosen = _page(client, project=second.pk)

    assert "First bot" in default
    assert "@first_shop" in default
    assert "@second_shop" not in default
    assert "@strangers_shop" not in default
    assert "@second_shop" in chosen
    assert "@first_shop" not in chosen
    assert 'name="project"' in default  # the project switcher (two projects)


def test_a_project_of_someone_else_is_404(client, owner):
    _owned_project(owner)

    response = client.get(reverse("channels"), {"project": ProjectFactory().pk})

    assert response.status_code == 404


def test_a_user_without_projects_is_told_so(client, owner):
    page = _page(client)

    assert "You do not own any project yet" in page
    assert "Connect TikTok" not in page.split("</header>")[1]


def test_each_account_shows_status_region_permissions_and_token_state(client, owner):
    project = _owned_project(owner)
    TikTokAccountFactory(
        channel=ChannelFactory(project=project),
        username="lost_shop",
        country="DE",
        status=TikTokAccount.Status.NEEDS_REAUTH,
        status_reason="The authorisation expired. Reconnect the account.",
        scopes=[s for s in constants.ALL_SCOPES if s != constants.SCOPE_COMMENT_LIST],
    )

    page = _page(client, project=project.pk)

    assert "needs reauthorisation" in page
    assert "The authorisation expired. Reconnect the account." in page
    assert "messaging unavailable" in page
    assert "not available for accounts registered in Germany" in page
    assert "comment callbacks (tiktok_client_new_comment)" in page
    assert "Reconnect the account and allow “comment.list”" in page
    assert "authorisation lost: the owner must reconnect" in page


def test_the_connect_page_asks_for_the_country(client, owner):
    project = _owned_project(owner)

    response = client.get(reverse("tiktok-connect"), {"project": project.pk})

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Country the TikTok account is registered in" in page
    assert '<option value="MX">Mexico</option>' in page
    assert "Connect TikTok" in page


def test_connecting_without_a_country_asks_again_and_does_not_leave(client, owner):
    project = _owned_project(owner)

    response = client.post(reverse("tiktok-connect"), {"project": project.pk, "country": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "tiktok_oauth_pending" not in client.session


def test_country_names_follow_the_language(client, owner):
    project = _owned_project(owner)

    page = html.unescape(
        client.get(reverse("tiktok-connect"), {"project": project.pk}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    )

    assert '<option value="DE">Германия</option>' in page


def test_the_page_carries_no_inline_script_and_a_strict_policy(client, owner):
    project = _owned_project(owner, name="Taqueria bot")
    _owned_project(owner, name="Second bot")  # the project picker shows
    TikTokAccountFactory(channel=ChannelFactory(project=project), avatar_url="https://p16-sign.tiktokcdn.com/a.jpeg")
    response = client.get(reverse("channels"))
    page = response.content.decode()
    assert re.findall(r"\son[a-z]+=", page) == []  # no onchange / onerror / onsubmit handlers
    assert re.findall(r"<script(?![^>]*\ssrc=)", page) == []
    assert "<style" not in page
    assert "data-submit-on-change" in page
    assert "data-fallback-next" in page
    assert "data-confirm=" in page
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
