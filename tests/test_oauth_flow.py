"""R1-R4 over real HTTP: our connect flow against the sandbox's consent page and token endpoints."""

import html

import pytest
from django.db import connection
from django.urls import reverse

from channels_tiktok import constants
from channels_tiktok.models import TikTokAccount
from clients.models import BotEvent, Channel
from tests.connect_flow import callback_query, consent, finish, notices, start_connect
from tests.factories import ChannelFactory, ProjectFactory, TikTokAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

MX_BUSINESS = "sbx-acct-mx-001"  # @taqueria_sandbox
BR_BUSINESS = "sbx-acct-br-002"
PERSONAL = "sbx-acct-co-003"  # @ana_personal
WITHOUT = lambda *scopes: tuple(s for s in constants.ALL_SCOPES if s not in scopes)  # noqa: E731


@pytest.fixture
def tiktok(sandbox_settings):
    """The sandbox playing TikTok, with the product's settings pointed at it."""
    return sandbox_settings


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def project(owner):
    project = ProjectFactory()
    project.owners.add(owner)
    return project


@pytest.fixture
def browser(client, owner):
    client.force_login(owner)
    return client


def _connect(browser, project, tiktok, **consent_args):
    country = consent_args.pop("country", "MX")
    callback = consent(start_connect(browser, project=project, country=country), **consent_args)
    return finish(browser, callback)


def _grant(tiktok, business_id):
    grants = tiktok.sandbox.state.live_grants(business_id)
    return grants[-1] if grants else None


def test_full_connect_stores_the_account_with_encrypted_tokens(browser, project, owner, tiktok):
    response = _connect(browser, project, tiktok)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/channels/?project={project.pk}"
    assert notices(response) == [("success", "TikTok account @taqueria_sandbox connected.")]
    account = TikTokAccount.objects.get(business_id=MX_BUSINESS)
    assert account.channel.project == project
    assert account.channel.kind == Channel.Kind.TIKTOK
    assert (account.username, account.display_name) == (
        "taqueria_sandbox",
        tiktok.sandbox.state.account(MX_BUSINESS).display_name,
    )
    assert account.avatar_url.startswith("https://")
    assert account.is_business_account is True
    assert account.status == TikTokAccount.Status.ACTIVE
    assert account.country == "MX"
    assert account.region_available is True
    assert account.connected_by == owner
    assert set(account.scopes.values_list("scope", flat=True)) == set(constants.ALL_SCOPES)
    grant = _grant(tiktok, MX_BUSINESS)
    assert (account.access_token, account.refresh_token) == (grant.access_token, grant.refresh_token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM channels_tiktok_tiktokaccount")
        raw_access, raw_refresh = cursor.fetchone()
    assert grant.access_token not in raw_access
    assert grant.refresh_token not in raw_refresh
    assert account.access_token_expires_at is not None
    # Webhooks now point at us (one subscription per app and event type).
    assert tiktok.sandbox.state.subscriptions == dict.fromkeys(
        constants.WEBHOOK_EVENT_TYPES, "http://127.0.0.1:8000/webhooks/tiktok/"
    )
    assert account.webhooks_subscribed_at is not None
    # The page shows it.
    page = response.content.decode()
    assert "@taqueria_sandbox" in page
    assert "messaging available" in page
    assert "all granted" in page


def test_the_consent_url_speaks_tiktoks_dialect(browser, project, tiktok):
    url = start_connect(browser, project=project)

    query = callback_query(url)
    assert url.startswith(tiktok.authorize_url)
    assert query["client_key"] == "test-app"
    assert "client_id" not in query
    assert query["response_type"] == "code"
    assert query["scope"] == ",".join(constants.ALL_SCOPES)
    assert query["redirect_uri"] == "http://127.0.0.1:8000/tiktok/oauth/callback/"
    assert query["disable_auto_auth"] == "1"
    assert len(query["state"]) >= 32


def test_refused_consent_says_so_and_stores_nothing(browser, project, tiktok):
    response = _connect(browser, project, tiktok, decision="deny")

    [(level, text)] = notices(response)
    assert level == "error"
    assert "declined on TikTok's page" in text
    assert "choose “Authorize”" in text
    assert not TikTokAccount.objects.exists()


@pytest.mark.parametrize(
    "missing", [constants.SCOPE_MESSAGE_SEND, constants.SCOPE_MESSAGE_READ, constants.SCOPE_MESSAGE_MANAGE]
)
def test_missing_messaging_scope_is_refused_and_the_token_revoked(browser, project, tiktok, missing):
    response = _connect(browser, project, tiktok, grant=WITHOUT(missing))

    [(level, text)] = notices(response)
    assert level == "error"
    assert "TikTok was not connected" in text
    assert f"“{missing}”" in text
    assert str(constants.SCOPE_FEATURES[missing]) in text
    assert f"Reconnect the account and allow “{missing}”" in text
    assert not TikTokAccount.objects.exists()
    assert tiktok.sandbox.state.live_grants(MX_BUSINESS) == []  # given back to TikTok


@pytest.mark.parametrize(
    ("missing", "feature"),
    [
        (constants.COMMENT_SCOPES, "comment callbacks (tiktok_client_new_comment)"),
        ((constants.SCOPE_COMMENT_MANAGE,), "replying to comments (tiktok_create_comment)"),
        (constants.VIDEO_SCOPES, "reading the account's video list"),
    ],
)
def test_missing_comment_or_video_scopes_connect_with_a_warning(browser, project, tiktok, missing, feature):
    response = _connect(browser, project, tiktok, grant=WITHOUT(*missing))

    (level, text), (warn_level, warning) = notices(response)
    assert (level, text) == ("success", "TikTok account @taqueria_sandbox connected.")
    assert warn_level == "warning"
    assert feature in warning
    for scope in missing:
        assert f"“{scope}”" in warning
    account = TikTokAccount.objects.get(business_id=MX_BUSINESS)
    assert set(account.scopes.values_list("scope", flat=True)) == set(WITHOUT(*missing))
    assert feature in html.unescape(response.content.decode())  # the channels page keeps saying it


def test_missing_profile_scopes_connect_but_the_account_type_is_unknown(browser, project, tiktok):
    response = _connect(browser, project, tiktok, grant=WITHOUT(*constants.PROFILE_SCOPES))

    assert notices(response)[0][0] == "success"
    account = TikTokAccount.objects.get(business_id=MX_BUSINESS)
    assert account.is_business_account is None
    assert "checking that the account is a Business Account" in notices(response)[1][1]


def test_personal_account_is_refused_with_the_steps_to_switch(browser, project, tiktok):
    response = _connect(browser, project, tiktok, account=PERSONAL)

    [(level, text)] = notices(response)
    assert level == "error"
    assert "personal account" in text
    assert "Settings and privacy → Account → Switch to Business Account" in text
    assert not TikTokAccount.objects.exists()
    assert tiktok.sandbox.state.live_grants(PERSONAL) == []


def test_account_in_an_unavailable_region_is_stored_with_the_verdict(browser, project, tiktok):
    response = _connect(browser, project, tiktok, country="DE")

    (level, _text), (warn_level, warning) = notices(response)
    assert level == "success"
    assert warn_level == "warning"
    assert "not available for accounts registered in Germany" in warning
    assert "EEA, Switzerland, United Kingdom" in warning
    assert "cannot reach the bot" in warning
    account = TikTokAccount.objects.get(business_id=MX_BUSINESS)
    assert (account.country, account.region_available) == ("DE", False)
    assert "messaging unavailable" in response.content.decode()


def test_reconnecting_updates_the_same_account(browser, project, tiktok):
    _connect(browser, project, tiktok, grant=WITHOUT(*constants.COMMENT_SCOPES))
    first = TikTokAccount.objects.get()
    first_token = first.access_token

    response = _connect(browser, project, tiktok)

    assert notices(response)[0] == ("success", "TikTok account @taqueria_sandbox reconnected.")
    account = TikTokAccount.objects.get()
    assert account.pk == first.pk
    assert Channel.objects.count() == 1
    assert account.access_token != first_token
    assert account.access_token == _grant(tiktok, MX_BUSINESS).access_token
    assert set(account.scopes.values_list("scope", flat=True)) == set(constants.ALL_SCOPES)
    event = BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS)
    assert event.body["data"]["status"] == "scopes_changed"
    assert event.body["data"]["added"] == sorted(constants.COMMENT_SCOPES)


def test_reconnecting_an_account_that_needed_reauthorisation_reactivates_it(browser, project, tiktok):
    TikTokAccountFactory(
        channel=ChannelFactory(project=project),
        business_id=MX_BUSINESS,
        status=TikTokAccount.Status.NEEDS_REAUTH,
        status_reason="The authorisation expired. Reconnect the account.",
    )

    response = _connect(browser, project, tiktok)

    assert notices(response)[0][1] == "TikTok account @taqueria_sandbox reconnected."
    account = TikTokAccount.objects.get()
    assert (account.status, account.status_reason) == (TikTokAccount.Status.ACTIVE, "")
    event = BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS)
    assert event.body["data"] == {"status": "active", "reason": "reconnected"}


def test_an_account_of_another_project_is_refused(browser, project, tiktok):
    TikTokAccountFactory(business_id=MX_BUSINESS)  # connected to some other project

    response = _connect(browser, project, tiktok)

    [(level, text)] = notices(response)
    assert level == "error"
    assert "already connected to another project" in text
    assert TikTokAccount.objects.get().channel.project != project


def test_disconnect_revokes_the_token(browser, project, tiktok):
    _connect(browser, project, tiktok)
    account = TikTokAccount.objects.get()
    assert tiktok.sandbox.state.live_grants(MX_BUSINESS)

    response = browser.post(reverse("tiktok-disconnect", args=[account.pk]), follow=True)

    assert notices(response) == [("success", "TikTok account @taqueria_sandbox disconnected.")]
    assert tiktok.sandbox.state.live_grants(MX_BUSINESS) == []
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.DISCONNECTED
    assert account.access_token == account.refresh_token == ""
    assert BotEvent.objects.get(type=BotEvent.Type.ACCOUNT_STATUS).body["data"]["status"] == "disconnected"


def test_disconnect_of_someone_elses_account_is_404(browser, tiktok):
    account = TikTokAccountFactory()

    response = browser.post(reverse("tiktok-disconnect", args=[account.pk]))

    assert response.status_code == 404
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.ACTIVE


def test_refresh_against_the_sandbox_rotates_the_refresh_token(browser, project, tiktok):
    from channels_tiktok.accounts.tokens import refresh_access_token

    _connect(browser, project, tiktok)
    account = TikTokAccount.objects.get()
    old_refresh = account.refresh_token

    fresh = refresh_access_token(account)

    assert fresh.refresh_token != old_refresh
    assert fresh.access_token == _grant(tiktok, MX_BUSINESS).access_token
    # The old refresh token is spent on TikTok's side: using it again fails for good.
    account.access_token = "act.stale"
    account.refresh_token = old_refresh
    account.save()
    with pytest.raises(Exception, match="Reconnect"):
        refresh_access_token(account)
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.NEEDS_REAUTH


# ------------------------------------------------------------------------------------------------- state
def _code_unused(tiktok, callback_path) -> bool:
    code = callback_query(callback_path)["code"]
    return tiktok.sandbox.state.codes[code].used is False


def _assert_refused(response, tiktok, callback_path):
    [(level, text)] = notices(response)
    assert level == "error"
    assert "Nothing was connected" in text or "expired" in text
    assert not TikTokAccount.objects.exists()
    assert _code_unused(tiktok, callback_path)  # the token endpoint was never called


def test_callback_without_state_is_refused_before_the_token_endpoint(browser, project, tiktok):
    callback = consent(start_connect(browser, project=project))
    code = callback_query(callback)["code"]

    response = finish(browser, f"/tiktok/oauth/callback/?code={code}")

    _assert_refused(response, tiktok, callback)


def test_reused_state_is_refused_before_the_token_endpoint(browser, project, tiktok):
    callback = consent(start_connect(browser, project=project))
    finish(browser, callback)
    TikTokAccount.objects.all().delete()
    # The same state again, with a fresh code TikTok would have issued for it.
    second = consent(start_connect(browser, project=project))
    replay = f"/tiktok/oauth/callback/?code={callback_query(second)['code']}&state={callback_query(callback)['state']}"

    response = finish(browser, replay)

    _assert_refused(response, tiktok, second)


def test_expired_state_is_refused_before_the_token_endpoint(browser, project, tiktok):
    callback = consent(start_connect(browser, project=project))
    session = browser.session
    pending = session["tiktok_oauth_pending"]
    for data in pending.values():
        data["created_at"] -= constants.AUTH_CODE_TTL_SECONDS + 1
    session["tiktok_oauth_pending"] = pending
    session.save()

    response = finish(browser, callback)

    assert "expired" in notices(response)[0][1]
    _assert_refused(response, tiktok, callback)


def test_state_from_another_session_is_refused_before_the_token_endpoint(browser, project, owner, tiktok, client):
    from django.test import Client

    callback = consent(start_connect(browser, project=project))
    other = Client()
    other.force_login(owner)  # the same person, another browser

    response = finish(other, callback)

    _assert_refused(response, tiktok, callback)


def test_state_of_another_user_in_the_same_session_is_refused(browser, project, tiktok):
    callback = consent(start_connect(browser, project=project))
    browser.force_login(UserFactory())  # the session now belongs to someone else

    response = finish(browser, callback)

    assert not TikTokAccount.objects.exists()
    assert _code_unused(tiktok, callback)
    assert response.status_code == 200


def test_connect_for_a_project_the_user_does_not_own_is_404(browser, tiktok):
    response = browser.post(reverse("tiktok-connect"), {"project": ProjectFactory().pk, "country": "MX"})

    assert response.status_code == 404


def test_token_endpoint_failure_names_tiktoks_error_and_log_id(browser, project, tiktok):
    tiktok.control.inject_failure(path=constants.PATH_OAUTH_TOKEN, mode="code", code=constants.CODE_SYSTEM_ERROR)

    response = _connect(browser, project, tiktok)

    [(level, text)] = notices(response)
    assert level == "error"
    assert "TikTok answered with an error" in text
    assert "code 50000" in text
    assert "log id " in text
    assert "log id -" not in text
    assert not TikTokAccount.objects.exists()
