"""Shared posts against the sandbox over HTTP: the account's video list (cached), sharing its own posts only."""

import pytest

from channels_tiktok import constants
from channels_tiktok.models import Conversation, GrantedScope
from clients.models import Message
from tests.sandbox_world import *  # noqa: F403
from tests.sandbox_world import ACCOUNT, USER

pytestmark = pytest.mark.django_db

SEND = constants.PATH_MESSAGE_SEND
LIST = constants.PATH_VIDEO_LIST


def videos_url(world):
    return f"/api/v1/tiktok/accounts/{world.account.pk}/videos/"


def send(world, body):
    return world.api.post(f"/api/v1/clients/{world.client.pk}/messages/", body, format="json")


def own_videos(world):
    return sorted(
        (v for v in world.control.state()["videos"] if v["business_id"] == ACCOUNT),
        key=lambda v: v["create_time"],
        reverse=True,
    )


def test_lists_the_accounts_posts_and_caches_the_page(world):
    first = world.api.get(videos_url(world))
    second = world.api.get(videos_url(world))

    assert first.status_code == 200, first.json()
    body = first.json()
    assert [v["item_id"] for v in body["videos"]] == [v["item_id"] for v in own_videos(world)]
    assert set(body["videos"][0]) >= {"item_id", "caption", "thumbnail_url", "share_url", "media_type", "is_ad"}
    assert body["has_more"] is False
    assert second.json() == body
    calls = world.calls(LIST)
    assert len(calls) == 1  # the second answer came from the cache
    assert calls[0]["query"]["business_id"] == ACCOUNT
    assert calls[0]["query"]["max_count"] == str(constants.VIDEO_LIST_MAX_COUNT)


def test_cursor_is_passed_through(world):
    for index in range(constants.VIDEO_LIST_MAX_COUNT):
        world.control.add_video(account=ACCOUNT, caption=f"video {index}")
    first = world.api.get(videos_url(world)).json()
    assert first["has_more"] is True
    assert len(first["videos"]) == constants.VIDEO_LIST_MAX_COUNT

    second = world.api.get(videos_url(world), {"cursor": first["cursor"]}).json()
    assert [c["query"].get("cursor") for c in world.calls(LIST)] == [None, first["cursor"]]
    assert second["has_more"] is False
    seen = {v["item_id"] for v in first["videos"]} | {v["item_id"] for v in second["videos"]}
    assert seen == {v["item_id"] for v in own_videos(world)}


def test_video_list_needs_the_scope(world):
    GrantedScope.objects.filter(account=world.account, scope=constants.SCOPE_VIDEO_LIST).delete()
    response = world.api.get(videos_url(world))
    assert (response.status_code, response.json()["code"]) == (409, "missing_scope")
    assert world.calls(LIST) == []


def test_another_projects_account_is_404(world, sandbox_to_django):
    from tests.factories import TikTokAccountFactory

    other = TikTokAccountFactory()
    assert world.api.get(f"/api/v1/tiktok/accounts/{other.pk}/videos/").status_code == 404


def test_shares_an_own_post_and_takes_a_window_slot(world):
    item_id = own_videos(world)[0]["item_id"]

    response = send(world, {"share_post": {"item_id": item_id}})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["status"], body["payload"]["share_post"]) == ("share_post", "sent", {"item_id": item_id})
    conversation = Conversation.objects.get(client=world.client)
    assert [c["body"] for c in world.calls(SEND)] == [
        {
            "business_id": ACCOUNT,
            "recipient_type": "CONVERSATION",
            "recipient": conversation.conversation_id,
            "message_type": "SHARE_POST",
            "share_post": {"item_id": item_id},
        }
    ]
    assert conversation.window_sent == 1
    sent = world.control.sent_messages(account=ACCOUNT, user=USER)
    assert [(m["type"], m["body"]) for m in sent] == [("share_post", {"item_id": item_id})]
    world.process()  # the echo is recognised as our own send
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_someone_elses_post_is_refused_before_tiktok_is_asked_to_send(world):
    other = next(v for v in world.control.state()["videos"] if v["business_id"] != ACCOUNT)
    response = send(world, {"share_post": {"item_id": other["item_id"]}})
    assert response.status_code == 422
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("share_post_not_own", "share_post.item_id")
    ]
    assert world.calls(SEND) == []
    assert Conversation.objects.get(client=world.client).window_sent == 0


@pytest.mark.parametrize(
    "extra",
    [{"text": "look"}, {"image": {"url": "https://example.com/a.png"}}],
)
def test_a_shared_post_goes_alone(world, extra):
    item_id = own_videos(world)[0]["item_id"]
    response = send(world, {"share_post": {"item_id": item_id}, **extra})
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["share_post_exclusive"]
    assert world.calls(SEND) == []
    assert world.calls(LIST) == []


def test_validate_reports_the_exclusive_rule(world):
    response = world.api.post(
        "/api/v1/messages/validate/",
        {"account": world.account.pk, "text": "x", "share_post": {"item_id": "1"}},
        format="json",
    )
    assert response.status_code == 200
    assert [e["code"] for e in response.json()["errors"]] == ["share_post_exclusive"]


def test_sandbox_refuses_a_post_that_is_not_the_business_own(world):
    """TikTok's side: 40007 for another account's post, even when asked directly."""
    from channels_tiktok.tiktok.client import TikTokClient, TikTokError

    other = next(v for v in world.control.state()["videos"] if v["business_id"] != ACCOUNT)
    conversation = Conversation.objects.get(client=world.client)
    with pytest.raises(TikTokError) as refused:
        TikTokClient(world.account.access_token).send_message(
            business_id=ACCOUNT,
            conversation_id=conversation.conversation_id,
            message_type=constants.MESSAGE_TYPE_SHARE_POST,
            body={"share_post": {"item_id": other["item_id"]}},
        )
    assert refused.value.code == constants.CODE_NOT_FOUND
    assert world.control.sent_messages(account=ACCOUNT) == []


def test_sandbox_counts_a_shared_post_against_the_window(world):
    item_id = own_videos(world)[0]["item_id"]
    for _ in range(constants.WINDOW_MAX_MESSAGES):
        world.control.operator_writes(text="hi", account=ACCOUNT, user=USER)
    from channels_tiktok.tiktok.client import TikTokClient, TikTokError

    conversation = Conversation.objects.get(client=world.client)
    with pytest.raises(TikTokError) as refused:
        TikTokClient(world.account.access_token).send_message(
            business_id=ACCOUNT,
            conversation_id=conversation.conversation_id,
            message_type=constants.MESSAGE_TYPE_SHARE_POST,
            body={"share_post": {"item_id": item_id}},
        )
    assert refused.value.code == constants.CODE_DM_RULES


def test_sandbox_phone_view_shows_the_business_shared_post(world):
    import requests

    video = own_videos(world)[0]
    assert send(world, {"share_post": {"item_id": video["item_id"]}}).status_code == 201
    from django.utils.html import escape

    page = requests.get(world.sandbox.url + "/sandbox/", timeout=10).text
    assert f"Shared a video<small>{escape(video['caption'])}</small>" in page
