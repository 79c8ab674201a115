"""The sandbox's OAuth over real HTTP: consent page, token exchange, refresh rotation, revoke, token info,
profile, webhook subscriptions, and the conventions every TikTok answer follows."""

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from channels_tiktok import constants
from tests.sandbox import call_api as api

REDIRECT_URI = "http://127.0.0.1:8000/tiktok/oauth/callback/"
ACCOUNT = "sbx-acct-mx-001"


def authorize_params(sandbox, **overrides):
    params = {
        "client_key": sandbox.sandbox.config.app_id,
        "response_type": "code",
        "scope": ",".join(constants.ALL_SCOPES),
        "redirect_uri": REDIRECT_URI,
        "state": "csrf-123",
        "disable_auto_auth": "1",
    }
    return params | overrides


def consent(sandbox, *, grant=constants.ALL_SCOPES, decision="allow", account=ACCOUNT, **fields):
    """Post the consent form as the page's browser would; returns the redirect's query."""
    form = authorize_params(sandbox) | {"account": account, "account_type": "business", "decision": decision}
    form |= fields
    response = requests.post(
        sandbox.authorize_url, data={**form, "grant": list(grant)}, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def exchange(sandbox, code, *, redirect_uri=REDIRECT_URI, secret=None):
    config = sandbox.sandbox.config
    return api(
        sandbox,
        "POST",
        constants.PATH_OAUTH_TOKEN,
        json={
            "client_id": config.app_id,
            "client_secret": secret or config.app_secrets[0],
            "grant_type": "authorization_code",
            "auth_code": code,
            "redirect_uri": redirect_uri,
        },
    )


def refresh(sandbox, refresh_token):
    config = sandbox.sandbox.config
    return api(
        sandbox,
        "POST",
        constants.PATH_OAUTH_REFRESH,
        json={
            "client_id": config.app_id,
            "client_secret": config.app_secrets[0],
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
    )


def profile(sandbox, token, fields=constants.PROFILE_FIELDS, business_id=ACCOUNT):
    params = {"business_id": business_id, "fields": json.dumps(list(fields))}
    return api(sandbox, "GET", constants.PATH_BUSINESS_GET, token=token, params=params)


def test_consent_page_lists_accounts_and_requested_scopes(sandbox):
    response = requests.get(sandbox.authorize_url, params=authorize_params(sandbox), timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    for username in ("taqueria_sandbox", "loja_sandbox", "ana_personal"):
        assert f"@{username}" in page
    for scope in constants.ALL_SCOPES:
        assert f'name="grant" value="{scope}" checked' in page
    assert 'name="state" value="csrf-123"' in page
    assert 'value="personal"' in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"client_key": "someone-else"}, "client_key"), ({"redirect_uri": ""}, "redirect_uri is missing")],
)
def test_consent_page_refuses_unknown_client_and_missing_redirect(sandbox, overrides, message):
    response = requests.get(sandbox.authorize_url, params=authorize_params(sandbox, **overrides), timeout=5)

    assert response.status_code == 400
    assert message in response.text


def test_unapproved_scope_fails_the_whole_request(sandbox):
    sandbox.sandbox.configure(approved_scopes=list(constants.MESSAGING_SCOPES))
    params = authorize_params(sandbox, scope="message.list.send,video.list")

    response = requests.get(sandbox.authorize_url, params=params, allow_redirects=False, timeout=5)

    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_scope"]
    assert "video.list" in query["error_description"][0]
    assert query["state"] == ["csrf-123"]
    assert "code" not in query


def test_wrong_response_type_is_redirected_as_an_error(sandbox):
    params = authorize_params(sandbox, response_type="token")

    response = requests.get(sandbox.authorize_url, params=params, allow_redirects=False, timeout=5)

    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["unsupported_response_type"]


def test_denied_consent_redirects_with_access_denied(sandbox):
    query = consent(sandbox, decision="deny")

    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == "csrf-123"
    assert "code" not in query


def test_code_exchange_returns_tiktoks_token_shape_with_granted_subset(sandbox):
    granted = [*constants.MESSAGING_SCOPES, constants.SCOPE_USER_BASIC]
    query = consent(sandbox, grant=granted)
    assert query["state"] == "csrf-123"

    envelope = exchange(sandbox, query["code"])

    assert envelope["code"] == 0
    assert envelope["message"] == "OK"
    data = envelope["data"]
    assert set(data) == {
        "open_id",
        "scope",
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
    }
    assert data["open_id"] == ACCOUNT
    assert set(data["scope"].split(",")) == set(granted)
    assert (data["expires_in"], data["refresh_token_expires_in"]) == (86_400, 31_536_000)


def test_code_is_single_use(sandbox):
    code = consent(sandbox)["code"]
    assert exchange(sandbox, code)["code"] == 0

    again = exchange(sandbox, code)

    assert again["code"] == constants.CODE_INVALID_PARAM
    assert again["data"] is None  # TikTok's error bodies carry `data: null`


def test_code_expires_after_its_ttl(sandbox):
    code = consent(sandbox)["code"]
    sandbox.control.advance_clock(seconds=constants.AUTH_CODE_TTL_SECONDS + 1)

    assert exchange(sandbox, code)["code"] == constants.CODE_INVALID_PARAM


def test_exchange_checks_redirect_uri_and_client_secret(sandbox):
    assert exchange(sandbox, consent(sandbox)["code"], redirect_uri=REDIRECT_URI + "x")["code"] == 40000
    assert exchange(sandbox, consent(sandbox)["code"], secret="wrong")["code"] == constants.CODE_NO_PERMISSION
    # Every configured secret is accepted (rotation).
    sandbox.sandbox.configure(app_secrets=["new-secret", "old-secret"])
    assert exchange(sandbox, consent(sandbox)["code"], secret="old-secret")["code"] == 0


def test_token_info_and_profile(sandbox):
    tokens = exchange(sandbox, consent(sandbox)["code"])["data"]

    info = api(
        sandbox,
        "POST",
        constants.PATH_TOKEN_INFO,
        json={"app_id": sandbox.sandbox.config.app_id, "access_token": tokens["access_token"]},
    )
    business = profile(sandbox, tokens["access_token"])

    assert info["data"] == {"app_id": sandbox.sandbox.config.app_id, "scope": tokens["scope"], "creator_id": ACCOUNT}
    assert business["data"] == {
        "username": "taqueria_sandbox",
        "display_name": "Taquería Sandbox",
        "profile_image": business["data"]["profile_image"],
        "is_business_account": True,
        "followers_count": 1520,
    }
    assert business["data"]["profile_image"].startswith("https://")


def test_consent_can_create_a_personal_account(sandbox):
    query = consent(sandbox, account="new", new_username="Mi_Tienda", account_type="personal", country="ar")
    tokens = exchange(sandbox, query["code"])["data"]

    data = profile(sandbox, tokens["access_token"], business_id=tokens["open_id"])["data"]

    assert tokens["open_id"] == "sbx-acct-mi_tienda"
    assert data["username"] == "mi_tienda"
    assert data["is_business_account"] is False


def test_profile_field_without_its_scope_is_refused(sandbox):
    tokens = exchange(sandbox, consent(sandbox, grant=[*constants.MESSAGING_SCOPES, "user.info.basic"])["code"])["data"]

    refused = profile(sandbox, tokens["access_token"], fields=["username"])
    allowed = profile(sandbox, tokens["access_token"], fields=["display_name"])

    assert refused["code"] == constants.CODE_NO_PERMISSION
    assert "user.info.username" in refused["message"]
    assert allowed["data"] == {"display_name": "Taquería Sandbox"}


def test_profile_of_another_business_id_is_refused(sandbox):
    tokens = exchange(sandbox, consent(sandbox)["code"])["data"]

    assert profile(sandbox, tokens["access_token"], business_id="sbx-acct-br-002")["code"] == 40001


def test_refresh_rotates_the_refresh_token(sandbox):
    first = exchange(sandbox, consent(sandbox)["code"])["data"]

    second = refresh(sandbox, first["refresh_token"])["data"]
    replay = refresh(sandbox, first["refresh_token"])

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    assert replay["code"] == constants.CODE_REFRESH_TOKEN_EXPIRED
    assert profile(sandbox, second["access_token"])["code"] == 0
    assert refresh(sandbox, second["refresh_token"])["code"] == 0


def test_expired_access_token_gets_40102_until_refreshed(sandbox):
    tokens = exchange(sandbox, consent(sandbox)["code"])["data"]
    sandbox.control.advance_clock(seconds=86_400)

    expired = profile(sandbox, tokens["access_token"])
    fresh = refresh(sandbox, tokens["refresh_token"])["data"]

    assert expired["code"] == constants.CODE_ACCESS_TOKEN_EXPIRED
    assert profile(sandbox, fresh["access_token"])["code"] == 0


def test_expire_token_control_and_refresh_expiry(sandbox):
    tokens = exchange(sandbox, consent(sandbox)["code"])["data"]

    sandbox.control.expire_token(account=ACCOUNT, which="both")

    assert profile(sandbox, tokens["access_token"])["code"] == constants.CODE_ACCESS_TOKEN_EXPIRED
    assert refresh(sandbox, tokens["refresh_token"])["code"] == constants.CODE_REFRESH_TOKEN_EXPIRED


def test_unknown_token_gets_40105(sandbox):
    assert profile(sandbox, "act.not-a-token")["code"] == constants.CODE_INVALID_ACCESS_TOKEN


def test_revoke_invalidates_access_and_refresh_tokens(sandbox):
    tokens = exchange(sandbox, consent(sandbox)["code"])["data"]
    config = sandbox.sandbox.config

    revoked = api(
        sandbox,
        "POST",
        constants.PATH_OAUTH_REVOKE,
        json={
            "client_id": config.app_id,
            "client_secret": config.app_secrets[0],
            "access_token": tokens["access_token"],
        },
    )

    assert revoked["code"] == 0
    assert profile(sandbox, tokens["access_token"])["code"] == constants.CODE_INVALID_ACCESS_TOKEN
    assert refresh(sandbox, tokens["refresh_token"])["code"] == constants.CODE_REFRESH_TOKEN_EXPIRED


def test_short_token_lifetimes_are_configurable(sandbox):
    sandbox.sandbox.configure(access_token_ttl=60, refresh_token_ttl=120)

    tokens = exchange(sandbox, consent(sandbox)["code"])["data"]

    assert (tokens["expires_in"], tokens["refresh_token_expires_in"]) == (60, 120)


def test_webhook_subscription_update_list_delete(sandbox):
    config = sandbox.sandbox.config
    app = {"app_id": config.app_id, "secret": config.app_secrets[0]}
    url = "http://127.0.0.1:8000/webhooks/tiktok/"

    updated = api(
        sandbox, "POST", constants.PATH_WEBHOOK_UPDATE, json=app | {"event_type": "COMMENT", "callback_url": url}
    )
    listed = api(sandbox, "GET", constants.PATH_WEBHOOK_LIST, params=app | {"event_type": "COMMENT"})
    other = api(sandbox, "GET", constants.PATH_WEBHOOK_LIST, params=app | {"event_type": "DIRECT_MESSAGE"})
    deleted = api(sandbox, "POST", constants.PATH_WEBHOOK_DELETE, json=app | {"event_type": "COMMENT"})
    after = api(sandbox, "GET", constants.PATH_WEBHOOK_LIST, params=app | {"event_type": "COMMENT"})

    assert updated["data"] == {"app_id": config.app_id, "event_type": "COMMENT", "callback_url": url}
    assert listed["data"]["callback_url"] == url
    assert other["data"]["callback_url"] == ""
    assert deleted["code"] == 0
    assert after["data"]["callback_url"] == ""


def test_webhook_subscription_checks_app_and_event_type(sandbox):
    config = sandbox.sandbox.config
    body = {"app_id": config.app_id, "secret": "wrong", "event_type": "COMMENT", "callback_url": "http://x/"}

    assert api(sandbox, "POST", constants.PATH_WEBHOOK_UPDATE, json=body)["code"] == constants.CODE_NO_PERMISSION
    body |= {"secret": config.app_secrets[0], "event_type": "LIKES"}
    assert api(sandbox, "POST", constants.PATH_WEBHOOK_UPDATE, json=body)["code"] == constants.CODE_INVALID_PARAM_2


def test_paths_need_the_trailing_slash_and_their_method(sandbox):
    without_slash = requests.get(sandbox.api_base_url + "business/get", timeout=5)
    wrong_method = requests.get(sandbox.api_base_url + constants.PATH_MESSAGE_SEND, timeout=5)
    unknown = requests.get(sandbox.url + "/nothing/", timeout=5)

    assert without_slash.status_code == 404
    assert wrong_method.status_code == 405
    assert unknown.status_code == 404
    assert all(r.headers[constants.LOG_ID_HEADER] for r in (without_slash, wrong_method, unknown))


def test_malformed_json_body_is_an_invalid_parameter(sandbox):
    response = requests.post(sandbox.api_base_url + constants.PATH_OAUTH_TOKEN, data=b"{not json", timeout=5)

    assert response.json()["code"] == constants.CODE_INVALID_PARAM_2


def test_consent_helper_plays_the_person(sandbox):
    url = sandbox.authorize_url + "?" + urlencode(authorize_params(sandbox))

    granted = sandbox.control.consent(url, account="sbx-acct-br-002", grant=list(constants.MESSAGING_SCOPES))
    denied = sandbox.http_control.consent(url, decision="deny")
    refused = sandbox.control.consent(
        sandbox.authorize_url + "?" + urlencode(authorize_params(sandbox, client_key="x"))
    )

    assert granted["status"] == 302
    assert granted["location"].startswith(REDIRECT_URI)
    assert granted["query"]["state"] == "csrf-123"
    tokens = exchange(sandbox, granted["query"]["code"])["data"]
    assert tokens["open_id"] == "sbx-acct-br-002"
    assert set(tokens["scope"].split(",")) == set(constants.MESSAGING_SCOPES)
    assert denied["query"]["error"] == "access_denied"
    assert refused["status"] == 400
    assert "client_key" in refused["body"]
