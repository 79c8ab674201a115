"""The worst day's API inputs: each is a 4xx with a code, never a 500 (deep JSON, non-ASCII digits, forged cursors,
ids beyond 64 bits, text no database can store, long variable values)."""

import base64
import json
import random

import pytest

from channels_tiktok.accounts.selectors import account_ids_for_id
from clients.models import ClientVariable
from tests.factories import ClientFactory
from tests.outbound_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def deep(levels: int) -> str:
    return '{"text": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("levels", [950, 5000])
def test_deeply_nested_json_on_validate_is_400_malformed_request(api, account, levels):
    response = api.generic("POST", "/api/v1/messages/validate/", deep(levels), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_deeply_nested_json_on_variables_is_400_malformed_request(api, account):
    client = ClientFactory(channel=account.channel)
    url = f"/api/v1/clients/{client.pk}/variables/"
    response = api.generic("PATCH", url, deep(5000), content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "malformed_request")
    # A shallow object still works.
    assert api.patch(url, {"a": "b"}, format="json").json() == {"a": "b"}


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/v1/events/", {"after": "¹"}, "invalid_cursor"),
        ("/api/v1/events/", {"limit": "²"}, "invalid_limit"),
        ("/api/v1/events/", {"after": "9" * 30}, "invalid_cursor"),
        ("/api/v1/clients/", {"account": "¹"}, "invalid_account"),
        ("/api/v1/clients/", {"account": "9" * 30}, "invalid_account"),
        ("/api/v1/clients/", {"limit": "²"}, "invalid_limit"),
        ("/api/v1/tiktok/accounts/", {"limit": "²"}, "invalid_limit"),
        ("/api/v1/clients/", {"cursor": "cD1hYmM="}, "invalid_cursor"),  # p=abc
        ("/api/v1/clients/", {"cursor": base64.b64encode(b"p=%00").decode()}, "invalid_cursor"),
        ("/api/v1/tiktok/accounts/", {"cursor": base64.b64encode(b"p=" + b"9" * 30).decode()}, "invalid_cursor"),
        ("/api/v1/clients/", {"cursor": "not base64 at all"}, "invalid_cursor"),
    ],
)
def test_query_parameters_no_database_can_take_are_400_with_a_code(api, account, path, params, code):
    response = api.get(path, params)
    assert (response.status_code, response.json()["code"]) == (400, code)


def test_a_genuine_cursor_still_pages(api, account):
    for _ in range(3):
        ClientFactory(channel=account.channel)
    first = api.get("/api/v1/clients/", {"limit": "2"}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tiktok/accounts/{}/",
        "/api/v1/clients/{}/",
        "/api/v1/clients/{}/variables/",
        "/api/v1/clients/{}/messages/",
    ],
)
def test_ids_beyond_64_bits_are_404(api, account, path):
    response = api.get(path.format("9" * 30))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"a\\ud800": "x"}', "variable_key_invalid"),
        ('{"a": "x\\udfff"}', "variable_value_invalid"),
        ('{"a\\u0000": "x"}', "variable_key_invalid"),
        ('{"a": "x\\u0000y"}', "variable_value_invalid"),
    ],
)
def test_unstorable_variable_text_is_422(api, account, body, code):
    client = ClientFactory(channel=account.channel)
    response = api.generic("PATCH", f"/api/v1/clients/{client.pk}/variables/", body, content_type="application/json")
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == [code]
    assert not ClientVariable.objects.filter(client=client).exists()


def test_deleting_a_variable_whose_key_holds_a_nul_is_422(api, account):
    client = ClientFactory(channel=account.channel)
    response = api.delete(f"/api/v1/clients/{client.pk}/variables/a%00b/")
    assert response.status_code == 422


def _random_text(length: int) -> str:
    rng = random.Random(7)
    ranges = [(0x21, 0x7E), (0x400, 0x4FF), (0x4E00, 0x9FFF)]
    return "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(length))


@pytest.mark.parametrize("length", [6000, 100_000])
def test_a_long_random_variable_value_never_500s_and_is_found_by_value(api, account, length):
    """6 000 random characters overflowed PostgreSQL's btree row limit on the old (key, value) index (run this
    file with DATABASE_URL=postgres://...); the (key, md5(value)) index holds any length."""
    value = _random_text(length)
    client = ClientFactory(channel=account.channel)
    url = f"/api/v1/clients/{client.pk}/variables/"
    response = api.generic("PATCH", url, json.dumps({"big": value}), content_type="application/json")
    # A configured length limit may refuse it (422 with a code); it is never a 500.
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert response.json()["errors"][0]["code"] == "variable_value_too_long"
    # Whatever the API allows, the database takes any length (the channel writes its own variables directly).
    ClientVariable.objects.update_or_create(client=client, key="tiktok_comment_id", defaults={"value": value})
    assert account_ids_for_id(value) == {account.channel_id}
