"""Referrals end to end through the sandbox: a user opens the conversation from a Direct Messaging ad or a
tiktok.me short link; the client's read-only variables say where from, the bot gets `client.referral` with the
whole referral, and the owner's page and the admin's account page count the referrals by source."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels_tiktok.models import Referral
from clients.models import BotEvent, Client
from tests.factories import ProjectFactory, UserFactory
from tests.sandbox import connect_account

pytestmark = pytest.mark.django_db

ACCOUNT = "sbx-acct-mx-001"


@pytest.fixture
def connected(sandbox_to_django):
    project = ProjectFactory(callback_url="")
    account = connect_account(sandbox_to_django, project=project, account=ACCOUNT)
    return sandbox_to_django, account


def test_an_ad_referral_sets_variables_and_reaches_the_bot(connected, django_capture_on_commit_callbacks):
    sandbox, account = connected
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        opened = sandbox.control.user_opens_from_referral(source="ad", ad_id="1791", ad_name="Tacos 2x1")
    assert opened["delivery"]["http_status"] == 200
    assert len(queries) <= 25  # a new client

    event = BotEvent.objects.get()
    assert event.type == "client.referral"
    data = event.body["data"]
    assert (data["source"], data["ad_id"], data["ad_name"], data["short_link_ref"]) == ("ad", "1791", "Tacos 2x1", "")
    assert data["referral"] == opened["content"]["referral"]
    assert data["conversation_id"] == opened["conversation_id"]
    variables = event.body["client"]["variables"]
    assert variables["tiktok_referral_source"] == "ad"
    assert (variables["tiktok_ad_id"], variables["tiktok_ad_name"]) == ("1791", "Tacos 2x1")
    assert Referral.objects.get().account == account


def test_a_short_link_referral_and_the_variables_are_read_only(connected, django_capture_on_commit_callbacks, client):
    sandbox, account = connected
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_opens_from_referral(source="ad", ad_id="1791")
        sandbox.control.user_opens_from_referral(source="short_link", ref="spring-promo")
    event = BotEvent.objects.order_by("id").last()
    assert (event.body["data"]["source"], event.body["data"]["short_link_ref"]) == ("short_link", "spring-promo")
    variables = event.body["client"]["variables"]
    # The latest referral wins: the ad's fields are cleared.
    assert (variables["tiktok_referral_source"], variables["tiktok_ad_id"]) == ("short_link", "")
    assert variables["tiktok_short_link_ref"] == "spring-promo"

    from clients.api_keys import create_api_key

    _key, api_key = create_api_key(project=account.channel.project, name="bot")
    answer = client.patch(
        f"/api/v1/clients/{Client.objects.get().pk}/variables/",
        {"tiktok_referral_source": "organic"},
        content_type="application/json",
        headers={"Authorization": f"Api-Key {api_key}"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "variable_read_only"


def test_owner_page_and_admin_count_referrals_by_source(connected, django_capture_on_commit_callbacks, client):
    sandbox, account = connected
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_opens_from_referral(source="ad")
        sandbox.control.user_opens_from_referral(source="ad", user="sbx-user-pedro")
        sandbox.control.user_opens_from_referral(source="short_link")
    owner = UserFactory()
    account.channel.project.owners.add(owner)
    client.force_login(owner)
    page = html.unescape(client.get(reverse("channels")).content.decode())
    assert "ads: 2 · tiktok.me links: 1" in page

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    change = client.get(reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk]))
    assert "ads: 2 · tiktok.me links: 1" in html.unescape(change.content.decode())


def test_the_sandbox_refuses_an_unknown_source(sandbox):
    from channels_tiktok.sandbox.client import SandboxControlError

    with pytest.raises(SandboxControlError, match="source must be one of"):
        sandbox.control.user_opens_from_referral(source="organic")
