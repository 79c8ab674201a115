"""Automatic messages against the sandbox over HTTP: the API, the rules, TikTok's review, the switches, and the
echoes of TikTok's automatic messages (the account's, no window slot, no bot event)."""

import pytest

from channels_tiktok import constants
from channels_tiktok.models import AutoMessage, Conversation, GrantedScope
from clients.models import BotEvent, Message
from tests.sandbox_world import *  # noqa: F403
from tests.sandbox_world import ACCOUNT, USER

pytestmark = pytest.mark.django_db

CREATE = constants.PATH_AUTO_MESSAGE_CREATE


def url(world, suffix=""):
    return f"/api/v1/tiktok/accounts/{world.account.pk}/auto-messages/{suffix}"


def put(world, body):
    return world.api.put(url(world), body, format="json")


FULL = {
    "welcome_message": {"enabled": True, "items": [{"content": "¡Bienvenido a la taquería!"}]},
    "suggested_questions": {
        "enabled": True,
        "items": [{"question": "¿Horario?", "answer": "De 9 a 21."}, {"question": "¿Envíos?", "answer": "Sí."}],
    },
    "chat_prompts": {"items": [{"title": "Menú", "content": "Ver el menú"}, {"title": "Pedido", "content": "Pedir"}]},
}


def test_put_creates_items_on_tiktok_in_review_and_switches_types(world):
    response = put(world, FULL)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["welcome_message"]["enabled"] is True
    assert [i["content"] for i in body["welcome_message"]["items"]] == ["¡Bienvenido a la taquería!"]
    assert [i["question"] for i in body["suggested_questions"]["items"]] == ["¿Horario?", "¿Envíos?"]
    assert {i["review_status"] for s in ("welcome_message", "chat_prompts") for i in body[s]["items"]} == {"REVIEWING"}
    assert body["chat_prompts"]["enabled"] is False
    creates = [c["body"] for c in world.calls(CREATE)]
    assert creates[0] == {
        "business_id": ACCOUNT,
        "auto_message_type": "WELCOME_MESSAGE",
        "welcome_message": {"content": "¡Bienvenido a la taquería!"},
    }
    assert creates[1]["suggested_question"] == {"question": "¿Horario?", "answer": "De 9 a 21."}
    assert [c["body"]["auto_message_type"] for c in world.calls(constants.PATH_AUTO_MESSAGE_STATUS)] == [
        "WELCOME_MESSAGE",
        "SUGGESTED_QUESTION",
    ]
    prompts = [c["body"] for c in world.calls(constants.PATH_AUTO_MESSAGE_SORT)]
    assert prompts[0]["auto_message_ids"] == [i["id"] for i in body["chat_prompts"]["items"]]
    assert AutoMessage.objects.filter(account=world.account).count() == 5


def test_refresh_reads_tiktoks_review(world):
    put(world, FULL)
    welcome = AutoMessage.objects.get(account=world.account, type=constants.AUTO_WELCOME)
    question = AutoMessage.objects.get(account=world.account, type=constants.AUTO_SUGGESTED_QUESTION, position=2)
    world.control.review_auto_message(auto_message_id=question.external_id, status="REJECTED")
    world.control.advance_clock(seconds=601)

    response = world.api.post(url(world, "refresh/"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["welcome_message"]["items"][0] == {
        "id": welcome.external_id,
        "content": "¡Bienvenido a la taquería!",
        "review_status": "APPROVED",
    }
    assert [i["review_status"] for i in body["suggested_questions"]["items"]] == ["APPROVED", "REJECTED"]
    assert body["suggested_questions"]["enabled"] is True
    assert body["refreshed_at"] is not None
    assert len(world.calls(constants.PATH_AUTO_MESSAGE_GET)) == 1


def test_changing_and_removing_items(world):
    put(world, FULL)
    first, second = AutoMessage.objects.filter(account=world.account, type=constants.AUTO_SUGGESTED_QUESTION)
    world.control.review_auto_message(auto_message_id=first.external_id, status="APPROVED")

    response = put(world, {"suggested_questions": {"items": [{"question": "¿Horario?", "answer": "De 10 a 22."}]}})

    assert response.status_code == 200, response.json()
    assert [c["body"] for c in world.calls(constants.PATH_AUTO_MESSAGE_UPDATE)] == [
        {
            "business_id": ACCOUNT,
            "auto_message_id": first.external_id,
            "auto_message_type": "SUGGESTED_QUESTION",
            "suggested_question": {"question": "¿Horario?", "answer": "De 10 a 22."},
        }
    ]
    assert [c["body"]["auto_message_id"] for c in world.calls(constants.PATH_AUTO_MESSAGE_DELETE)] == [
        second.external_id
    ]
    items = response.json()["suggested_questions"]["items"]
    assert [(i["answer"], i["review_status"]) for i in items] == [("De 10 a 22.", "REVIEWING")]
    # The other sections were left alone, and the switch too.
    assert len(response.json()["welcome_message"]["items"]) == 1
    assert response.json()["suggested_questions"]["enabled"] is True


def test_disable_a_type(world):
    put(world, FULL)
    response = put(world, {"welcome_message": {"enabled": False}})
    assert response.json()["welcome_message"]["enabled"] is False
    assert world.calls(constants.PATH_AUTO_MESSAGE_STATUS)[-1]["body"] == {
        "business_id": ACCOUNT,
        "auto_message_type": "WELCOME_MESSAGE",
        "operation_status": "DISABLE",
    }


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"welcome_message": {"items": [{"content": "x" * 251}]}}, "welcome_message_too_long", "content"),
        ({"welcome_message": {"items": [{"content": "a"}, {"content": "b"}]}}, "too_many_welcome_messages", None),
        (
            {"suggested_questions": {"items": [{"question": "q" * 81, "answer": "a"}]}},
            "suggested_question_too_long",
            "question",
        ),
        (
            {"suggested_questions": {"items": [{"question": "q", "answer": "a" * 201}]}},
            "suggested_answer_too_long",
            "answer",
        ),
        (
            {"suggested_questions": {"items": [{"question": "q", "answer": "a"}] * 4}},
            "too_many_suggested_questions",
            None,
        ),
        ({"chat_prompts": {"items": [{"title": "t" * 19, "content": "c"}]}}, "chat_prompt_title_too_long", "title"),
        (
            {"chat_prompts": {"items": [{"title": "t", "content": "c" * 151}]}},
            "chat_prompt_content_too_long",
            "content",
        ),
        ({"chat_prompts": {"items": [{"title": "t", "content": "c"}] * 7}}, "too_many_chat_prompts", None),
        ({"chat_prompts": {"items": [{"title": " ", "content": "c"}]}}, "auto_message_text_required", "title"),
    ],
)
def test_limits_are_422_with_their_code_before_any_call(world, body, code, field):
    response = put(world, body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert code in [e["code"] for e in errors]
    if field:
        assert any(e["field"].endswith(f".{field}") for e in errors if e["code"] == code)
    assert world.calls(CREATE) == []


def test_limits_at_the_edge_are_accepted(world):
    response = put(
        world,
        {
            "welcome_message": {"items": [{"content": "w" * 250}]},
            "suggested_questions": {"items": [{"question": "q" * 80, "answer": "a" * 200}] * 3},
            "chat_prompts": {"items": [{"title": "t" * 18, "content": "c" * 150}] * 6},
        },
    )
    assert response.status_code == 200, response.json()
    assert len(world.calls(CREATE)) == 10


def test_needs_the_manage_scope(world):
    GrantedScope.objects.filter(account=world.account, scope=constants.SCOPE_MESSAGE_MANAGE).delete()
    response = put(world, FULL)
    assert (response.status_code, response.json()["code"]) == (409, "missing_scope")
    assert world.calls(CREATE) == []


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            CREATE,
            {"auto_message_type": "WELCOME_MESSAGE", "welcome_message": {"content": "x" * 251}},
            "longer than 250",
        ),
        (
            CREATE,
            {"auto_message_type": "CHAT_PROMPT", "chat_prompt": {"title": "t" * 19, "content": "c"}},
            "longer than 18",
        ),
        (CREATE, {"auto_message_type": "GREETING"}, "auto_message_type"),
        (
            constants.PATH_AUTO_MESSAGE_STATUS,
            {"auto_message_type": "CHAT_PROMPT", "operation_status": "ON"},
            "operation_status",
        ),
    ],
)
def test_sandbox_enforces_the_limits(world, path, body, message):
    from tests.sandbox import call_api

    envelope = call_api(
        world.sandbox, "POST", path, token=world.account.access_token, json={"business_id": ACCOUNT, **body}
    )
    assert envelope["code"] == constants.CODE_INVALID_PARAM_2
    assert message in envelope["message"]


def test_sandbox_refuses_a_second_welcome_message(world):
    from tests.sandbox import call_api

    body = {"business_id": ACCOUNT, "auto_message_type": "WELCOME_MESSAGE", "welcome_message": {"content": "hi"}}
    assert call_api(world.sandbox, "POST", CREATE, token=world.account.access_token, json=body)["code"] == 0
    second = call_api(world.sandbox, "POST", CREATE, token=world.account.access_token, json=body)
    assert (second["code"], second["message"]) == (
        constants.CODE_INVALID_PARAM_2,
        "At most 1 WELCOME_MESSAGE item(s) per account.",
    )


def test_tiktoks_automatic_message_is_the_accounts_without_a_slot_or_event(world):
    put(world, FULL)
    welcome = AutoMessage.objects.get(account=world.account, type=constants.AUTO_WELCOME)
    world.control.review_auto_message(auto_message_id=welcome.external_id)
    events_before = BotEvent.objects.count()

    sent = world.control.auto_message_sends(account=ACCOUNT, user=USER, auto_message_type="WELCOME_MESSAGE")
    world.process()

    message = Message.objects.get(external_id=sent["message_id"])
    assert (message.direction, message.source, message.text) == ("out", "auto", "¡Bienvenido a la taquería!")
    assert message.payload["auto_message_type"] == "WELCOME_MESSAGE"
    assert Conversation.objects.get(client=world.client).window_sent == 0
    assert BotEvent.objects.count() == events_before
    assert not BotEvent.objects.filter(type="operator.message").exists()


def test_an_auto_reply_echo_is_logged_once(world):
    sent = world.control.auto_message_sends(
        account=ACCOUNT, user=USER, auto_message_type="AUTO_REPLY", text="Ya vuelvo"
    )
    world.process()
    world.control.redeliver(delivery_id=world.control.deliveries(event="im_send_msg")[-1]["delivery_id"])
    world.process()
    assert Message.objects.filter(external_id=sent["message_id"], source="auto").count() == 1


# ------------------------------------------------------------------------------------------ owner's page, admin
def test_owner_edits_switches_and_refreshes_on_their_page(world, client):
    from django.urls import reverse

    from tests.factories import UserFactory

    owner = UserFactory()
    world.account.channel.project.owners.add(owner)
    client.force_login(owner)
    page_url = reverse("tiktok-auto-messages", args=[world.account.pk])
    assert page_url in client.get(reverse("channels") + f"?project={world.account.channel.project_id}").content.decode()

    response = client.post(
        page_url,
        {
            "action": "save",
            "welcome_message-enabled": "on",
            "welcome_message-1-content": "¡Hola! Respondemos enseguida.",
            "chat_prompts-1-title": "Menú",
            "chat_prompts-1-content": "Ver el menú",
        },
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "¡Hola! Respondemos enseguida." in html
    assert [c["body"]["auto_message_type"] for c in world.calls(CREATE)] == ["WELCOME_MESSAGE", "CHAT_PROMPT"]
    assert world.calls(constants.PATH_AUTO_MESSAGE_STATUS)[0]["body"]["operation_status"] == "ENABLE"

    world.control.advance_clock(seconds=601)
    client.post(page_url, {"action": "refresh"})
    assert set(AutoMessage.objects.filter(account=world.account).values_list("review_status", flat=True)) == {
        "APPROVED"
    }


def test_owner_page_shows_a_broken_limit(world, client):
    from django.urls import reverse

    from tests.factories import UserFactory

    owner = UserFactory()
    world.account.channel.project.owners.add(owner)
    client.force_login(owner)
    response = client.post(
        reverse("tiktok-auto-messages", args=[world.account.pk]),
        {"action": "save", "chat_prompts-1-title": "t" * 19, "chat_prompts-1-content": "c"},
        follow=True,
    )
    assert "at most 18 characters" in response.content.decode()
    assert world.calls(CREATE) == []


def test_someone_elses_account_page_is_404(world, client):
    from django.urls import reverse

    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse("tiktok-auto-messages", args=[world.account.pk])).status_code == 404


def test_admin_panel_and_refresh_action(world, admin_client):
    from django.urls import reverse

    put(world, FULL)
    world.control.advance_clock(seconds=601)
    change_url = reverse("admin:channels_tiktok_tiktokaccount_change", args=[world.account.pk])
    response = admin_client.post(
        reverse("admin:channels_tiktok_tiktokaccount_changelist"),
        {"action": "refresh_auto_messages", "_selected_action": [world.account.pk]},
        follow=True,
    )
    assert "5 automatic messages read from TikTok" in response.content.decode()
    html = admin_client.get(change_url).content.decode()
    assert "¡Bienvenido a la taquería!" in html
    assert "approved" in html
    assert len(world.calls(constants.PATH_AUTO_MESSAGE_GET)) == 1
