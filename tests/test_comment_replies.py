"""`POST /api/v1/clients/{id}/comment-replies/`: tiktok_create_comment (R15), with TikTok mocked at HTTP."""

import json

import pytest
import responses

from channels_tiktok import constants
from channels_tiktok.models import GrantedScope
from clients.models import Message
from tests.factories import ClientFactory, ClientVariableFactory
from tests.outbound_fixtures import *  # noqa: F403
from tests.outbound_fixtures import envelope, tiktok_url

pytestmark = pytest.mark.django_db

VIDEO = "7440000000000000001"
COMMENT = "7440000000000000777"


@pytest.fixture
def commenter(account):
    client = ClientFactory(channel=account.channel)
    ClientVariableFactory(client=client, key=constants.VAR_COMMENT_VIDEO_ID, value=VIDEO)
    ClientVariableFactory(client=client, key=constants.VAR_COMMENT_ID, value=COMMENT)
    return client


def url(client):
    return f"/api/v1/clients/{client.pk}/comment-replies/"


def add_reply(mock, *, comment_id="7440000000000000999", code=0, status=200, body=None):
    payload = body if body is not None else envelope({"comment_id": comment_id, "text": "x"}, code=code)
    mock.add(responses.POST, tiktok_url(constants.PATH_COMMENT_REPLY), json=payload, status=status)


def reply_bodies(mock):
    return [json.loads(c.request.body) for c in mock.calls]


def test_defaults_come_from_the_clients_variables(api, commenter, tiktok):
    add_reply(tiktok)
    response = api.post(url(commenter), {"text": "¡Gracias!"}, format="json")
    assert response.status_code == 201, response.json()
    assert reply_bodies(tiktok) == [
        {"business_id": "biz-1", "video_id": VIDEO, "comment_id": COMMENT, "text": "¡Gracias!"}
    ]
    body = response.json()
    assert (body["kind"], body["status"], body["external_id"]) == ("comment_reply", "sent", "7440000000000000999")
    assert body["payload"]["comment_id"] == COMMENT


def test_explicit_ids_win(api, commenter, tiktok):
    add_reply(tiktok)
    response = api.post(url(commenter), {"text": "hi", "comment_video_id": "v2", "comment_id": "c2"}, format="json")
    assert response.status_code == 201
    assert reply_bodies(tiktok)[0]["video_id"] == "v2"
    assert reply_bodies(tiktok)[0]["comment_id"] == "c2"


def test_missing_ids_are_a_clear_422(api, account, tiktok):
    client = ClientFactory(channel=account.channel)
    response = api.post(url(client), {"text": "hi"}, format="json")
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("comment_target_missing", "comment_video_id"),
        ("comment_target_missing", "comment_id"),
    ]
    assert len(tiktok.calls) == 0


@pytest.mark.parametrize(("text", "code"), [("", "comment_text_required"), ("x" * 1201, "comment_text_too_long")])
def test_text_rules(api, commenter, tiktok, text, code):
    response = api.post(url(commenter), {"text": text}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == code


def test_1200_characters_are_accepted(api, commenter, tiktok):
    add_reply(tiktok)
    assert api.post(url(commenter), {"text": "x" * 1200}, format="json").status_code == 201


def test_system_error_is_reported_not_retried(api, commenter, tiktok):
    add_reply(tiktok, code=constants.CODE_SYSTEM_ERROR)
    add_reply(tiktok)
    response = api.post(url(commenter), {"text": "hi"}, format="json")
    assert response.status_code == 502
    assert (response.json()["code"], response.json()["tiktok_code"]) == ("tiktok_unavailable", 50000)
    assert len(tiktok.calls) == 1
    message = Message.objects.get()
    assert (message.status, message.error_code) == ("failed", "tiktok_unavailable")


def test_rate_limit_is_retried(api, commenter, tiktok):
    add_reply(tiktok, code=constants.CODE_RATE_LIMITED)
    add_reply(tiktok, comment_id="after")
    response = api.post(url(commenter), {"text": "hi"}, format="json")
    assert response.status_code == 201
    assert response.json()["external_id"] == "after"
    assert len(tiktok.calls) == 2


def test_tiktok_refusal(api, commenter, tiktok):
    add_reply(tiktok, code=constants.CODE_NOT_FOUND)
    response = api.post(url(commenter), {"text": "hi"}, format="json")
    assert (response.status_code, response.json()["code"]) == (502, "tiktok_rejected")


def test_missing_scope_is_409(api, commenter, tiktok, account):
    GrantedScope.objects.filter(account=account, scope=constants.SCOPE_COMMENT_MANAGE).delete()
    response = api.post(url(commenter), {"text": "hi"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "missing_scope")
    assert len(tiktok.calls) == 0
