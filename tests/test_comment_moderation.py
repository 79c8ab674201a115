"""Comment moderation against the sandbox over HTTP: hide/unhide, like/unlike, delete the account's own comments
(someone else's refused before any call), and `comment.status` events for comment.update's other actions."""

import pytest

from channels_tiktok import constants
from channels_tiktok.models import GrantedScope
from clients.models import BotEvent, Client, Message
from tests.sandbox_world import *  # noqa: F403
from tests.sandbox_world import ACCOUNT, build_world

pytestmark = pytest.mark.django_db

HIDE, LIKE, DELETE = constants.PATH_COMMENT_HIDE, constants.PATH_COMMENT_LIKE, constants.PATH_COMMENT_DELETE


@pytest.fixture
def world(sandbox_to_django, db):
    """Pedro commented "¿Precio?" on the account's newest video; the bot knows him."""
    world = build_world(sandbox_to_django, write=False)
    commented = world.control.user_comments(text="¿Precio?", user="sbx-user-pedro", account=ACCOUNT)
    from tests.sandbox_world import process_journal

    process_journal()
    world.comment_id, world.video_id = str(commented["comment_id"]), str(commented["video_id"])
    return world


def act(world, comment_id, **body):
    return world.api.post(
        f"/api/v1/tiktok/accounts/{world.account.pk}/comments/{comment_id}/actions/", body, format="json"
    )


def comment(world, comment_id):
    return next((c for c in world.control.comments() if str(c["comment_id"]) == comment_id), None)


def test_hide_and_unhide(world):
    hidden = act(world, world.comment_id, action="hide", video_id=world.video_id)
    assert hidden.status_code == 200, hidden.json()
    assert hidden.json() == {"action": "hide", "video_id": world.video_id}
    assert comment(world, world.comment_id)["status"] == "HIDDEN"
    assert act(world, world.comment_id, action="unhide", video_id=world.video_id).status_code == 200
    assert comment(world, world.comment_id)["status"] == "PUBLIC"
    assert [c["body"] for c in world.calls(HIDE)] == [
        {"business_id": ACCOUNT, "video_id": world.video_id, "comment_id": world.comment_id, "action": a}
        for a in ("HIDE", "UNHIDE")
    ]


def test_like_and_unlike(world):
    assert act(world, world.comment_id, action="like").status_code == 200
    assert comment(world, world.comment_id)["likes"] == 1
    assert act(world, world.comment_id, action="unlike").status_code == 200
    assert comment(world, world.comment_id)["likes"] == 0
    assert [c["body"]["action"] for c in world.calls(LIKE)] == ["LIKE", "UNLIKE"]


def test_delete_someone_elses_comment_is_refused_before_the_delete_call(world):
    response = act(world, world.comment_id, action="delete", video_id=world.video_id)
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("comment_not_own", "comment_id")]
    assert world.calls(DELETE) == []
    assert comment(world, world.comment_id) is not None


def test_delete_without_video_and_unknown_to_us_is_refused_without_any_call(world):
    lists_before = len(world.calls(constants.PATH_COMMENT_LIST))  # the webhook's own read of the comment
    response = act(world, world.comment_id, action="delete")
    assert response.json()["errors"][0]["code"] == "comment_not_own"
    assert world.calls(DELETE) == []
    assert len(world.calls(constants.PATH_COMMENT_LIST)) == lists_before


def test_delete_the_accounts_own_reply(world):
    client = Client.objects.get(channel=world.account.channel)
    reply = world.api.post(f"/api/v1/clients/{client.pk}/comment-replies/", {"text": "200 pesos"}, format="json")
    assert reply.status_code == 201, reply.json()
    reply_id = reply.json()["external_id"]

    response = act(world, reply_id, action="delete")

    assert response.status_code == 200, response.json()
    assert [c["body"] for c in world.calls(DELETE)] == [{"business_id": ACCOUNT, "comment_id": reply_id}]
    assert comment(world, reply_id) is None


def test_own_comment_confirmed_by_tiktok_when_the_video_is_given(world):
    """A reply posted from the TikTok app (not in our log): TikTok's comment list says it is the account's."""
    client = Client.objects.get(channel=world.account.channel)
    reply_id = world.api.post(f"/api/v1/clients/{client.pk}/comment-replies/", {"text": "x"}, format="json").json()[
        "external_id"
    ]
    Message.objects.filter(external_id=reply_id).delete()
    lists_before = len(world.calls(constants.PATH_COMMENT_LIST))
    response = act(world, reply_id, action="delete", video_id=world.video_id)
    assert response.status_code == 200, response.json()
    assert len(world.calls(constants.PATH_COMMENT_LIST)) == lists_before + 1
    assert len(world.calls(DELETE)) == 1


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"action": "pin"}, "comment_action_unknown", "action"),
        ({"action": "hide"}, "comment_video_required", "video_id"),
    ],
)
def test_rules_are_422(world, body, code, field):
    response = act(world, world.comment_id, **body)
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [(code, field)]
    assert world.calls(HIDE) == []


def test_needs_the_manage_scope(world):
    GrantedScope.objects.filter(account=world.account, scope=constants.SCOPE_COMMENT_MANAGE).delete()
    response = act(world, world.comment_id, action="like")
    assert (response.status_code, response.json()["code"]) == (409, "missing_scope")


def test_sandbox_refuses_deleting_another_users_comment(world):
    from tests.sandbox import call_api

    envelope = call_api(
        world.sandbox,
        "POST",
        DELETE,
        token=world.account.access_token,
        json={"business_id": ACCOUNT, "comment_id": world.comment_id},
    )
    assert envelope["code"] == constants.CODE_NO_PERMISSION
    hidden_elsewhere = call_api(
        world.sandbox,
        "POST",
        HIDE,
        token=world.account.access_token,
        json={"business_id": ACCOUNT, "video_id": "1", "comment_id": world.comment_id, "action": "HIDE"},
    )
    assert hidden_elsewhere["code"] == constants.CODE_NOT_FOUND
    bad_action = call_api(
        world.sandbox,
        "POST",
        LIKE,
        token=world.account.access_token,
        json={"business_id": ACCOUNT, "comment_id": world.comment_id, "action": "LOVE"},
    )
    assert bad_action["code"] == constants.CODE_INVALID_PARAM_2


@pytest.mark.parametrize(
    "action",
    [
        constants.COMMENT_ACTION_DELETE,
        constants.COMMENT_ACTION_HIDDEN,
        constants.COMMENT_ACTION_FRIENDS_ONLY,
        constants.COMMENT_ACTION_PUBLIC,
    ],
)
def test_comment_update_actions_become_comment_status_events(world, action):
    from tests.sandbox_world import process_journal

    world.control.comment_action(comment_id=world.comment_id, action=action)
    process_journal()

    event = BotEvent.objects.get(type="comment.status")
    assert event.body["data"] == {"comment_id": world.comment_id, "video_id": world.video_id, "action": action}
    assert event.client == Client.objects.get(channel=world.account.channel)


def test_hiding_through_the_api_comes_back_as_a_comment_status_event(world):
    act(world, world.comment_id, action="hide", video_id=world.video_id)
    world.process()
    assert [e.body["data"]["action"] for e in BotEvent.objects.filter(type="comment.status")] == [
        constants.COMMENT_ACTION_HIDDEN
    ]
