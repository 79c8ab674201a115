"""High-intent comments and their one private reply, end to end through the sandbox.

A high-intent comment reaches the bot as `client.high_intent_comment` (with the follower flag, which a plain
comment never sets); `POST /api/v1/clients/{id}/comment-dm/` sends the one private message TikTok allows, with
each condition refused before the call (our code) or by the sandbox (TikTok's code, mapped to ours); the sandbox
enforces every condition on its own side; the comment-to-message switch is read and set through the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_tiktok import constants
from channels_tiktok.models import HighIntentComment, TikTokAccount
from clients.api_keys import create_api_key
from clients.models import BotEvent, Client, ClientVariable, Message
from tests.factories import ProjectFactory
from tests.sandbox import call_api, connect_account

pytestmark = pytest.mark.django_db

SHOP = "pho_sandbox"  # a business registered in Vietnam
PEDRO = "sbx-user-pedro"  # CO: Latin America, not a follower


@pytest.fixture
def shop(sandbox_to_django):
    sandbox = sandbox_to_django
    created = sandbox.control.create_account(username=SHOP, country="VN")
    sandbox.control.add_video(account=created["business_id"], caption="Phở")
    project = ProjectFactory(callback_url="")
    account = connect_account(sandbox, project=project, account=created["business_id"], username=SHOP, country="VN")
    _key, api_key = create_api_key(project=project, name="bot")
    return sandbox, account, {"Authorization": f"Api-Key {api_key}"}


def comment(sandbox, account, callbacks, *, user=PEDRO, **kwargs) -> dict:
    with callbacks(execute=True):
        return sandbox.control.user_comments_high_intent(account=account.business_id, user=user, **kwargs)


def dm(client, headers, client_pk, comment_id, text="¡Hola! Te escribo por tu comentario."):
    return client.post(
        f"/api/v1/clients/{client_pk}/comment-dm/",
        {"comment_id": comment_id, "text": text},
        content_type="application/json",
        headers=headers,
    )


def test_a_high_intent_comment_reaches_the_bot_and_sets_the_follower_flag(shop, django_capture_on_commit_callbacks):
    sandbox, account, _headers = shop
    with CaptureQueriesContext(connection) as queries:
        flagged = comment(sandbox, account, django_capture_on_commit_callbacks, text="¿Precio?")
    assert len(queries) <= 25  # a new client
    event = BotEvent.objects.get()
    assert (event.type, event.body["text"]) == ("client.high_intent_comment", "¿Precio?")
    data = event.body["data"]
    assert (data["comment_id"], data["comment_text"], data["is_follower"]) == (flagged["comment_id"], "¿Precio?", False)
    assert "video_id" not in flagged["content"]  # TikTok does not say which video
    variables = event.body["client"]["variables"]
    assert (variables["tiktok_is_follower"], variables["tiktok_comment_id"]) == ("False", flagged["comment_id"])


def test_a_plain_comment_leaves_the_follower_flag_unknown(shop, django_capture_on_commit_callbacks):
    sandbox, account, _headers = shop
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_comments(account=account.business_id, user=PEDRO, text="rico")
    client = Client.objects.get()
    assert not ClientVariable.objects.filter(client=client, key=constants.VAR_IS_FOLLOWER).exists()
    comment(sandbox, account, django_capture_on_commit_callbacks, is_follower=True)
    assert ClientVariable.objects.get(client=client, key=constants.VAR_IS_FOLLOWER).value == "True"


def test_the_private_reply_reaches_the_sandbox_once(shop, django_capture_on_commit_callbacks, client):
    sandbox, account, headers = shop
    flagged = comment(sandbox, account, django_capture_on_commit_callbacks)
    customer = Client.objects.get()

    answer = dm(client, headers, customer.pk, flagged["comment_id"])
    assert answer.status_code == 201, answer.content
    sent = sandbox.control.sent_messages(account=account.business_id)
    assert [(m["type"], m["body"], m["user_id"]) for m in sent] == [
        ("text", {"body": "¡Hola! Te escribo por tu comentario."}, PEDRO)
    ]
    stored = sandbox.sandbox.state.comments[flagged["comment_id"]]
    assert stored.dm_reply_message_id == sent[0]["message_id"] == answer.json()["external_id"]
    message = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert (message.status, message.payload["comment_id"]) == (Message.Status.SENT, flagged["comment_id"])
    assert HighIntentComment.objects.get().reply_message == message
    conversation_id = ClientVariable.objects.get(client=customer, key=constants.VAR_CONVERSATION_ID).value
    assert conversation_id == sent[0]["conversation_id"]

    again = dm(client, headers, customer.pk, flagged["comment_id"])
    assert (again.status_code, again.json()["code"]) == (409, "comment_dm_already_replied")
    assert len(sandbox.control.sent_messages(account=account.business_id)) == 1


@pytest.mark.parametrize(
    ("arrange", "code"),
    [
        ("business_region", "comment_dm_business_region"),
        ("expired", "comment_dm_expired"),
        ("recent_exchange", "comment_dm_recent_exchange"),
        ("unknown", "comment_dm_unknown_comment"),
    ],
)
def test_refusals_we_know_before_the_call(shop, django_capture_on_commit_callbacks, client, arrange, code):
    sandbox, account, headers = shop
    flagged = comment(sandbox, account, django_capture_on_commit_callbacks)
    comment_id = flagged["comment_id"]
    if arrange == "business_region":
        TikTokAccount.objects.filter(pk=account.pk).update(country="MX")
    elif arrange == "expired":
        HighIntentComment.objects.update(commented_at=HighIntentComment.objects.get().commented_at.replace(year=2000))
    elif arrange == "recent_exchange":
        with django_capture_on_commit_callbacks(execute=True):
            sandbox.control.user_writes(account=account.business_id, user=PEDRO, text="hola")
    else:
        comment_id = "999"
    answer = dm(client, headers, Client.objects.get().pk, comment_id)
    assert (answer.status_code, answer.json()["code"]) == (409, code)
    assert sandbox.control.sent_messages(account=account.business_id) == []  # never called


@pytest.mark.parametrize(
    ("arrange", "code"),
    [
        ("commenter_region", "comment_dm_commenter_region"),
        ("minor", "comment_dm_commenter_minor"),
        ("reply_comment", "comment_dm_not_eligible"),
        ("disabled", "comment_dm_disabled"),
    ],
)
def test_refusals_only_tiktok_knows_are_mapped(shop, django_capture_on_commit_callbacks, client, arrange, code):
    sandbox, account, headers = shop
    user, kwargs = PEDRO, {}
    if arrange == "commenter_region":
        user = "sbx-user-lucia"  # Mexico: North America
    elif arrange == "minor":
        sandbox.control.set_user(user=PEDRO, adult=False)
    elif arrange == "reply_comment":
        first = comment(sandbox, account, django_capture_on_commit_callbacks)
        kwargs = {"parent_comment_id": first["comment_id"]}
    elif arrange == "disabled":
        call_api(
            sandbox,
            "POST",
            constants.PATH_DIRECT_REPLY_UPDATE,
            token=account.access_token,
            json={
                "business_id": account.business_id,
                "direct_reply_type": "COMMENT_TO_MESSAGE",
                "operation_status": "DISABLE",
            },
        )
    flagged = comment(sandbox, account, django_capture_on_commit_callbacks, user=user, **kwargs)
    customer = Client.objects.get(external_id=user)
    answer = dm(client, headers, customer.pk, flagged["comment_id"])
    assert (answer.status_code, answer.json()["code"]) == (409, code)
    assert sandbox.control.sent_messages(account=account.business_id) == []
    assert HighIntentComment.objects.get(comment_id=flagged["comment_id"]).replied_at is None  # released


def _send(sandbox, account, comment_id) -> dict:
    return call_api(
        sandbox,
        "POST",
        constants.PATH_MESSAGE_SEND,
        token=account.access_token,
        json={
            "business_id": account.business_id,
            "recipient_type": "CONVERSATION",
            "recipient": "",
            "message_type": "TEXT",
            "text": {"body": "hola"},
            "direct_reply": {"reply_type": "COMMENT_REPLY", "comment_reply": {"comment_id": comment_id}},
        },
    )


def test_the_sandbox_enforces_each_condition_with_its_own_code(shop, django_capture_on_commit_callbacks):
    sandbox, account, _headers = shop
    control = sandbox.control
    codes = {}
    fresh = comment(sandbox, account, django_capture_on_commit_callbacks)["comment_id"]
    control.set_account(account=account.business_id, country="MX")
    codes["business_region"] = _send(sandbox, account, fresh)["code"]
    control.set_account(account=account.business_id, country="VN")
    lucia = comment(sandbox, account, django_capture_on_commit_callbacks, user="sbx-user-lucia")["comment_id"]
    codes["commenter_region"] = _send(sandbox, account, lucia)["code"]
    reply = comment(sandbox, account, django_capture_on_commit_callbacks, parent_comment_id=fresh)["comment_id"]
    codes["not_first_level"] = _send(sandbox, account, reply)["code"]
    control.set_user(user=PEDRO, adult=False)
    codes["minor"] = _send(sandbox, account, fresh)["code"]
    control.set_user(user=PEDRO, adult=True)
    assert _send(sandbox, account, fresh)["code"] == 0
    codes["already_replied"] = _send(sandbox, account, fresh)["code"]
    second = comment(sandbox, account, django_capture_on_commit_callbacks)["comment_id"]
    codes["recent_exchange"] = _send(sandbox, account, second)["code"]  # the reply above is an exchange
    sandbox.sandbox.state.comments[second].create_time -= 49 * 3600  # written 49 hours ago
    codes["expired"] = _send(sandbox, account, second)["code"]
    assert codes == {
        "business_region": constants.CODE_COMMENT_REPLY_BUSINESS_REGION,
        "commenter_region": constants.CODE_COMMENT_REPLY_COMMENTER_REGION,
        "not_first_level": constants.CODE_COMMENT_REPLY_NOT_ELIGIBLE,
        "minor": constants.CODE_COMMENT_REPLY_MINOR,
        "already_replied": constants.CODE_COMMENT_REPLY_ALREADY_REPLIED,
        "recent_exchange": constants.CODE_COMMENT_REPLY_RECENT_EXCHANGE,
        "expired": constants.CODE_COMMENT_REPLY_EXPIRED,
    }


def test_the_comment_to_message_switch_through_the_api(shop, client):
    sandbox, account, headers = shop
    url = f"/api/v1/tiktok/accounts/{account.pk}/comment-to-message/"
    read = client.get(url, headers=headers)
    assert (read.status_code, read.json()["enabled"]) == (200, True)
    off = client.put(url, {"enabled": False}, content_type="application/json", headers=headers)
    assert (off.status_code, off.json()["enabled"]) == (200, False)
    assert sandbox.sandbox.state.accounts[account.business_id].comment_to_message is False
    account.refresh_from_db()
    assert account.comment_to_message is False
    assert account.comment_to_message_checked_at is not None
    bad = client.put(url, {"enabled": "maybe"}, content_type="application/json", headers=headers)
    assert bad.status_code == 422


def test_owner_page_and_admin_switch_comment_to_message(shop, client):
    import html

    from django.urls import reverse

    from tests.factories import UserFactory

    sandbox, account, _headers = shop
    owner = UserFactory()
    account.channel.project.owners.add(owner)
    client.force_login(owner)
    page = html.unescape(client.get(reverse("channels")).content.decode())
    assert "not read from TikTok yet" in page
    client.post(reverse("tiktok-comment-to-message", args=[account.pk]), {"enabled": "0"})
    assert sandbox.sandbox.state.accounts[account.business_id].comment_to_message is False
    page = html.unescape(client.get(reverse("channels")).content.decode())
    assert "Comment-to-message is off." in page or "off" in page
    assert 'name="enabled" value="1"' in page

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:channels_tiktok_tiktokaccount_changelist")
    client.post(url, {"action": "enable_comment_to_message", "_selected_action": [account.pk]})
    assert sandbox.sandbox.state.accounts[account.business_id].comment_to_message is True
    change = client.get(reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk]))
    assert "on: comments can be answered with one private message" in html.unescape(change.content.decode())
