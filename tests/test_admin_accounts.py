"""D3: the staff console for accounts: permissions and regional verdicts, token state, actions, filters."""

import json

import pytest
import responses
from django.conf import settings
from django.urls import reverse

from channels_tiktok import constants
from channels_tiktok.models import TikTokAccount
from clients.models import BotEvent
from tests.factories import TikTokAccountFactory

pytestmark = pytest.mark.django_db

BASE = settings.TIKTOK_API_BASE_URL
WITHOUT_COMMENTS = tuple(s for s in constants.ALL_SCOPES if s not in constants.COMMENT_SCOPES)


def _change_page(admin_client, account) -> str:
    response = admin_client.get(reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _panel(html: str, css_class: str) -> str:
    start = html.index(f'class="{css_class}"')
    return html[start : html.index("</div>", start)]


def test_complete_account_in_mexico_is_all_green(admin_client):
    account = TikTokAccountFactory(country="MX")

    html = _change_page(admin_client, account)

    permissions = _panel(html, "permissions-panel")
    assert "All needed scopes are granted." in permissions
    assert "missing" not in permissions.replace("Some scopes are missing", "")
    for scope in constants.ALL_SCOPES:
        assert scope in permissions
    region = _panel(html, "region-panel")
    assert "Mexico" in region
    assert "North America (except the US)" in region
    assert "Messaging available" in region
    assert "cannot reach the bot" in region  # the note on users in restricted regions


def test_account_missing_comment_scopes_shows_what_breaks_and_the_fix(admin_client):
    account = TikTokAccountFactory(scopes=WITHOUT_COMMENTS)

    permissions = _panel(_change_page(admin_client, account), "permissions-panel")

    assert "Some scopes are missing: the features listed below do not work." in permissions
    assert "comment callbacks (tiktok_client_new_comment)" in permissions
    assert "replying to comments (tiktok_create_comment)" in permissions
    assert "Reconnect the account and allow “comment.list”" in permissions
    assert "Reconnect the account and allow “comment.list.manage”" in permissions
    assert "allow “video.list”" not in permissions


def test_account_registered_in_germany_is_unavailable(admin_client):
    account = TikTokAccountFactory(country="DE")

    region = _panel(_change_page(admin_client, account), "region-panel")

    assert "Germany" in region
    assert "EEA, Switzerland, United Kingdom" in region
    assert "Messaging unavailable" in region
    assert "not available for accounts registered in Germany" in region


def test_changelist_filters_by_status_region_and_missing_scope(admin_client):
    complete = TikTokAccountFactory(country="MX", username="complete")
    no_comments = TikTokAccountFactory(country="BR", username="nocomments", scopes=WITHOUT_COMMENTS)
    german = TikTokAccountFactory(country="DE", username="german")
    lost = TikTokAccountFactory(country="MX", username="lost", status=TikTokAccount.Status.NEEDS_REAUTH)
    url = reverse("admin:channels_tiktok_tiktokaccount_changelist")

    def listed(**params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return {account.username for account in response.context["cl"].result_list}

    assert listed() == {"complete", "nocomments", "german", "lost"}
    assert listed(status="needs_reauth") == {lost.username}
    assert listed(region="unavailable") == {german.username}
    assert listed(region="available") == {complete.username, no_comments.username, lost.username}
    assert listed(missing="any") == {no_comments.username}
    assert listed(missing=constants.SCOPE_COMMENT_LIST) == {no_comments.username}
    assert listed(missing=constants.SCOPE_VIDEO_LIST) == set()


def test_staff_correct_the_registered_country(admin_client):
    account = TikTokAccountFactory(country="DE")
    url = reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk])

    response = admin_client.post(url, {"country": "CO"})

    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.country == "CO"
    assert account.region_available is True


def _run_action(admin_client, action: str, *accounts):
    url = reverse("admin:channels_tiktok_tiktokaccount_changelist")
    response = admin_client.post(url, {"action": action, "_selected_action": [a.pk for a in accounts]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


@responses.activate
def test_action_refresh_token_now(admin_client):
    account = TikTokAccountFactory(refresh_token="rft.old")
    responses.post(
        BASE + constants.PATH_OAUTH_REFRESH,
        json={
            "code": 0,
            "message": "OK",
            "data": {
                "open_id": account.business_id,
                "scope": ",".join(constants.ALL_SCOPES),
                "access_token": "act.renewed",
                "expires_in": 86400,
                "refresh_token": "rft.renewed",
                "refresh_token_expires_in": 31536000,
            },
        },
    )

    messages = _run_action(admin_client, "refresh_token_now", account)

    assert messages == [f"{account}: token renewed."]
    account.refresh_from_db()
    assert (account.access_token, account.refresh_token) == ("act.renewed", "rft.renewed")


@responses.activate
def test_action_recheck_stores_scopes_and_profile_from_tiktok(admin_client):
    account = TikTokAccountFactory(username="old_name")
    responses.post(
        BASE + constants.PATH_TOKEN_INFO,
        json={"code": 0, "message": "OK", "data": {"app_id": "test-app", "scope": ",".join(WITHOUT_COMMENTS)}},
    )
    responses.get(
        BASE + constants.PATH_BUSINESS_GET,
        json={
            "code": 0,
            "message": "OK",
            "data": {
                "username": "new_name",
                "display_name": "New",
                "profile_image": "https://img.example/a.jpg",
                "is_business_account": True,
                "followers_count": 5,
            },
        },
    )

    messages = _run_action(admin_client, "recheck_from_tiktok", account)

    account.refresh_from_db()
    assert account.username == "new_name"
    assert account.avatar_url == "https://img.example/a.jpg"
    assert set(account.scopes.values_list("scope", flat=True)) == set(WITHOUT_COMMENTS)
    assert messages == ["@new_name: re-checked; missing scopes: comment.list, comment.list.manage."]
    event = BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS)
    assert event.body["data"]["status"] == "scopes_changed"


@responses.activate
def test_action_subscribe_webhooks_points_both_subscriptions_at_us(admin_client):
    account = TikTokAccountFactory()
    responses.post(BASE + constants.PATH_WEBHOOK_UPDATE, json={"code": 0, "message": "OK", "data": {}})

    messages = _run_action(admin_client, "subscribe_webhooks", account)

    bodies = [json.loads(call.request.body) for call in responses.calls]
    assert [body["event_type"] for body in bodies] == ["DIRECT_MESSAGE", "COMMENT"]
    assert {body["callback_url"] for body in bodies} == {settings.TIKTOK_WEBHOOK_CALLBACK_URL}
    assert messages == ["Webhooks: DIRECT_MESSAGE: subscribed, COMMENT: subscribed."]
    account.refresh_from_db()
    assert account.webhooks_subscribed_at is not None


@responses.activate
def test_action_disconnect_revokes_and_forgets_the_token(admin_client):
    account = TikTokAccountFactory(access_token="act.to-revoke")
    responses.post(BASE + constants.PATH_OAUTH_REVOKE, json={"code": 0, "message": "OK", "data": {}})

    messages = _run_action(admin_client, "disconnect", account)

    assert json.loads(responses.calls[0].request.body)["access_token"] == "act.to-revoke"
    assert messages == [f"{account}: disconnected."]
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.DISCONNECTED
    assert account.access_token == account.refresh_token == ""
    assert BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS).body["data"]["status"] == "disconnected"


def test_admin_pages_never_show_tokens(admin_client):
    account = TikTokAccountFactory(access_token="act.secret-in-admin", refresh_token="rft.secret-in-admin")
    stored = TikTokAccount.objects.filter(pk=account.pk).values_list("access_token", flat=True)
    pages = [
        _change_page(admin_client, account),
        admin_client.get(reverse("admin:channels_tiktok_tiktokaccount_changelist")).content.decode(),
    ]
    raw_ciphertext = _raw_column(account.pk)
    for html in pages:
        assert "secret-in-admin" not in html
        assert raw_ciphertext not in html
    assert list(stored) == ["act.secret-in-admin"]


def _raw_column(pk) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT access_token FROM {TikTokAccount._meta.db_table} WHERE channel_id = %s", [pk])
        return cursor.fetchone()[0]


@responses.activate
def test_operation_buttons_on_the_account_page_run_on_that_account(admin_client):
    account = TikTokAccountFactory(access_token="act.button")
    other = TikTokAccountFactory()
    responses.post(BASE + constants.PATH_OAUTH_REVOKE, json={"code": 0, "message": "OK", "data": {}})
    page = _change_page(admin_client, account)
    url = reverse("admin:channels_tiktok_tiktokaccount_operation", args=[account.pk, "disconnect"])
    assert f'action="{url}"' in page
    assert "Re-check permissions and profile from TikTok" in page

    response = admin_client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk])
    assert [str(m) for m in response.context["messages"]] == [f"{account}: disconnected."]
    account.refresh_from_db()
    other.refresh_from_db()
    assert account.status == TikTokAccount.Status.DISCONNECTED
    assert other.status == TikTokAccount.Status.ACTIVE
    assert admin_client.get(url).status_code == 405
    unknown = reverse("admin:channels_tiktok_tiktokaccount_operation", args=[account.pk, "delete_selected"])
    assert admin_client.post(unknown).status_code == 405
