"""The pull feed `GET /api/v1/events/`: the project's bot events oldest first, resumable by cursor."""

import pytest

from clients.api_keys import create_api_key
from tests.factories import BotEventFactory, ProjectFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


@pytest.fixture
def project():
    return ProjectFactory()


@pytest.fixture
def api(client, project):
    _key, raw = create_api_key(project=project, name="bot")

    def get(**params):
        return client.get(URL, params, headers={"Authorization": f"Api-Key {raw}"})

    return get


def make_events(project, count):
    return [
        BotEventFactory(project=project, body={"id": f"e{n}", "type": "client.message", "text": f"m{n}"})
        for n in range(count)
    ]


def test_oldest_first_with_a_cursor_to_resume(api, project):
    make_events(project, 5)
    first = api(limit=2).json()
    assert [body["text"] for body in first["results"]] == ["m0", "m1"]
    second = api(after=first["next_cursor"], limit=2).json()
    assert [body["text"] for body in second["results"]] == ["m2", "m3"]
    third = api(after=second["next_cursor"]).json()
    assert [body["text"] for body in third["results"]] == ["m4"]
    empty = api(after=third["next_cursor"]).json()
    assert empty == {"results": [], "next_cursor": third["next_cursor"]}
    make_events(project, 1)
    assert [body["text"] for body in api(after=empty["next_cursor"]).json()["results"]] == ["m0"]


def test_results_are_the_event_bodies_exactly(api, project):
    event = BotEventFactory(
        project=project,
        body={"id": "x", "type": "client.message", "account": {"id": 1}, "client": None, "text": "t", "data": {}},
    )
    assert api().json()["results"] == [event.body]


def test_only_the_callers_project(api, project):
    make_events(ProjectFactory(), 3)
    make_events(project, 1)
    assert len(api().json()["results"]) == 1


def test_empty_feed_has_no_cursor(api):
    assert api().json() == {"results": [], "next_cursor": None}


def test_needs_an_api_key(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("params", "code"), [({"after": "abc"}, "invalid_cursor"), ({"limit": "-1"}, "invalid_limit")])
def test_bad_parameters(api, params, code):
    response = api(**params)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_limit_is_capped(api, project):
    make_events(project, 3)
    assert len(api(limit=0).json()["results"]) == 1
    assert len(api(limit=10_000).json()["results"]) == 3
