"""`/api/v1/tiktok/accounts/`: project-scoped, with region, scopes and what each missing one disables."""

import pytest
from rest_framework.test import APIClient

from channels_tiktok import constants
from clients.api_keys import create_api_key
from tests.factories import ChannelFactory, ProjectFactory, TikTokAccountFactory

pytestmark = pytest.mark.django_db

WITHOUT_COMMENTS = tuple(s for s in constants.ALL_SCOPES if s not in constants.COMMENT_SCOPES)


@pytest.fixture
def project():
    return ProjectFactory()


@pytest.fixture
def api(project):
    _key, raw = create_api_key(project=project, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_list_shows_only_the_projects_accounts_with_verdicts(api, project):
    mine = TikTokAccountFactory(channel=ChannelFactory(project=project), country="DE", scopes=WITHOUT_COMMENTS)
    TikTokAccountFactory()  # another project's

    response = api.get("/api/v1/tiktok/accounts/")

    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["id"] == mine.pk
    assert item["business_id"] == mine.business_id
    assert item["username"] == mine.username
    assert item["status"] == "active"
    assert item["country"] == "DE"
    assert item["region"] == constants.REGION_EEA_CH_UK
    assert item["region_available"] is False
    assert item["granted_scopes"] == sorted(WITHOUT_COMMENTS)
    assert [m["scope"] for m in item["missing_scopes"]] == list(constants.COMMENT_SCOPES)
    assert item["missing_scopes"][0]["features"] == "comment callbacks (tiktok_client_new_comment)"
    assert item["missing_scopes"][0]["blocking"] is False
    assert "Reconnect" in item["missing_scopes"][0]["fix"]
    assert item["token_expires_at"] is not None
    assert item["is_business_account"] is True
    assert not any("token" in key and key != "token_expires_at" for key in item)


def test_detail_and_another_projects_account_is_404(api, project):
    mine = TikTokAccountFactory(channel=ChannelFactory(project=project), country="MX")
    theirs = TikTokAccountFactory()

    ok = api.get(f"/api/v1/tiktok/accounts/{mine.pk}/")
    hidden = api.get(f"/api/v1/tiktok/accounts/{theirs.pk}/")

    assert ok.status_code == 200
    assert ok.json()["region"] == constants.REGION_NORTH_AMERICA
    assert ok.json()["region_available"] is True
    assert ok.json()["missing_scopes"] == []
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"


def test_accounts_api_needs_a_key():
    response = APIClient().get("/api/v1/tiktok/accounts/")

    assert response.status_code in (401, 403)


def test_schema_describes_the_accounts_endpoints(admin_client):
    response = admin_client.get("/api/schema/", {"format": "json"})

    schema = response.json()
    assert "/api/v1/tiktok/accounts/" in schema["paths"]
    assert "/api/v1/tiktok/accounts/{id}/" in schema["paths"]
    account = schema["components"]["schemas"]["TikTokAccount"]["properties"]
    assert account["missing_scopes"]["items"]["$ref"].endswith("/MissingScope")
    assert account["region_available"]["nullable"] is True
