"""Clients, their variables and window through the API (R13, B5), scoped to the caller's project."""

import datetime as dt

import pytest
from django.utils import timezone

from channels_tiktok import constants
from clients.models import ClientVariable
from tests.factories import ClientFactory, ClientVariableFactory, ConversationFactory
from tests.outbound_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_with_vars(conversation):
    client = conversation.client
    ClientVariableFactory(client=client, key=constants.VAR_CONVERSATION_ID, value=conversation.conversation_id)
    ClientVariableFactory(client=client, key="favourite", value="tacos")
    return client


def test_list_filters_by_account_and_external_id(api, account, client_with_vars):
    ClientFactory(channel=account.channel, external_id="someone-else")
    ConversationFactory()  # another project's client
    everyone = api.get("/api/v1/clients/").json()["results"]
    assert {c["external_id"] for c in everyone} == {client_with_vars.external_id, "someone-else"}
    found = api.get("/api/v1/clients/", {"account": account.pk, "external_id": client_with_vars.external_id}).json()
    assert [c["id"] for c in found["results"]] == [client_with_vars.pk]
    assert api.get("/api/v1/clients/", {"account": account.pk + 999}).json()["results"] == []


def test_detail_has_variables_and_window(api, client_with_vars, conversation):
    inbound_at = timezone.now() - dt.timedelta(hours=2)
    type(conversation).objects.filter(pk=conversation.pk).update(last_inbound_at=inbound_at, window_sent=3)
    body = api.get(f"/api/v1/clients/{client_with_vars.pk}/").json()
    assert body["variables"] == {constants.VAR_CONVERSATION_ID: conversation.conversation_id, "favourite": "tacos"}
    assert body["window"]["open"] is True
    assert body["window"]["messages_left"] == 7
    assert body["window"]["expires_at"].startswith((inbound_at + dt.timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M"))
    assert body["account"] == conversation.account.pk


def test_client_without_conversation_has_a_closed_window(api, account):
    client = ClientFactory(channel=account.channel)
    window = api.get(f"/api/v1/clients/{client.pk}/").json()["window"]
    assert window == {"open": False, "expires_at": None, "messages_left": 0}


def test_patch_merges_custom_variables(api, client_with_vars):
    url = f"/api/v1/clients/{client_with_vars.pk}/variables/"
    response = api.patch(url, {"size": "large", "count": 3, "vip": True, "favourite": None}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        constants.VAR_CONVERSATION_ID: "0:1:abc+def",
        "count": "3",
        "size": "large",
        "vip": "True",
    }
    assert api.get(url).json() == response.json()


def test_channel_variables_are_read_only(api, client_with_vars):
    url = f"/api/v1/clients/{client_with_vars.pk}/variables/"
    response = api.patch(url, {"tiktok_is_follower": "False", "mine": "ok"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "code": "variable_read_only",
            "field": "tiktok_is_follower",
            "message": response.json()["errors"][0]["message"],
        }
    ]
    assert not ClientVariable.objects.filter(key="mine").exists()  # all or nothing


def test_nested_values_are_refused(api, client_with_vars):
    response = api.patch(f"/api/v1/clients/{client_with_vars.pk}/variables/", {"a": {"b": 1}}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "variable_value_invalid"


def test_delete_custom_variable(api, client_with_vars):
    response = api.delete(f"/api/v1/clients/{client_with_vars.pk}/variables/favourite/")
    assert response.status_code == 204
    assert not ClientVariable.objects.filter(client=client_with_vars, key="favourite").exists()


def test_deleting_the_conversation_id_is_refused_with_why(api, client_with_vars):
    response = api.delete(f"/api/v1/clients/{client_with_vars.pk}/variables/{constants.VAR_CONVERSATION_ID}/")
    assert response.status_code == 409
    assert response.json()["code"] == "variable_required"
    assert "required for sending" in response.json()["message"]
    assert ClientVariable.objects.filter(client=client_with_vars, key=constants.VAR_CONVERSATION_ID).exists()


def test_deleting_another_channel_variable_is_read_only(api, client_with_vars):
    ClientVariableFactory(client=client_with_vars, key=constants.VAR_COMMENT_ID, value="1")
    response = api.delete(f"/api/v1/clients/{client_with_vars.pk}/variables/{constants.VAR_COMMENT_ID}/")
    assert (response.status_code, response.json()["code"]) == (409, "variable_read_only")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "variables/"), ("patch", "variables/"), ("delete", "variables/x/"), ("get", "messages/")],
)
def test_another_projects_client_is_404(api, method, suffix):
    other = ConversationFactory().client
    response = getattr(api, method)(f"/api/v1/clients/{other.pk}/{suffix}", {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_no_key_is_401(client_with_vars):
    from rest_framework.test import APIClient

    response = APIClient().get(f"/api/v1/clients/{client_with_vars.pk}/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_variables_patch_is_bounded_in_keys_per_client(api, client_with_vars, settings):
    settings.CLIENT_VARIABLES_MAX_KEYS = 5
    url = f"/api/v1/clients/{client_with_vars.pk}/variables/"
    assert api.patch(url, {"a": "1", "b": "2", "c": "3"}, format="json").status_code == 200  # 5 with the two
    response = api.patch(url, {"d": "4"}, format="json")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["code"], error["field"]) == ("too_many_variables", None)
    assert "at most 5 variables" in error["message"]
    assert "would make 6" in error["message"]
    assert not ClientVariable.objects.filter(key="d").exists()
    # Deleting one in the same change makes room.
    assert api.patch(url, {"d": "4", "a": None}, format="json").status_code == 200


def test_ten_thousand_keys_in_one_patch_are_refused(api, client_with_vars):
    url = f"/api/v1/clients/{client_with_vars.pk}/variables/"
    response = api.patch(url, {f"k{n}": "v" for n in range(10_000)}, format="json")
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["too_many_variables"]
    assert ClientVariable.objects.filter(client=client_with_vars).count() == 2


def test_variable_values_and_keys_are_bounded_in_length(api, client_with_vars):
    url = f"/api/v1/clients/{client_with_vars.pk}/variables/"
    assert api.patch(url, {"k" * 64: "v" * 1000}, format="json").status_code == 200
    response = api.patch(url, {"long": "v" * 1001, "k" * 65: "v"}, format="json")
    assert response.status_code == 422
    errors = {e["code"]: e for e in response.json()["errors"]}
    assert errors["variable_value_too_long"]["field"] == "long"
    assert "at most 1000 characters" in errors["variable_value_too_long"]["message"]
    assert errors["variable_key_invalid"]["message"] == "A variable key has 1 to 64 characters."
    assert not ClientVariable.objects.filter(key="long").exists()


def test_variables_form_body_is_415(api, client_with_vars):
    url = f"/api/v1/clients/{client_with_vars.pk}/variables/"
    response = api.generic("PATCH", url, '{"a": "b"}', content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert "this endpoint accepts application/json." in response.json()["message"]
