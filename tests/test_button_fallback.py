"""Desktop-safe buttons: the card's text lists its buttons, and a typed number or title reaches the bot as the
tap of that button."""

import datetime as dt

import pytest

from channels_tiktok.messaging import fallback_rules, rules
from clients.models import BotEvent, Client, Message
from tests import webhook_cases as wc
from tests.factories import MessageFactory, TikTokAccountFactory
from tests.outbound_fixtures import *  # noqa: F403
from tests.outbound_fixtures import add_send, sent_bodies

CALLBACK = rules.BUTTON_CALLBACK
FOOD = [rules.Button(CALLBACK, "Tacos"), rules.Button(CALLBACK, "Burritos")]


# ------------------------------------------------------------------------------------------ pure rules
def test_fallback_lists_the_buttons_after_the_text():
    assert fallback_rules.fallback_text("Hungry?", FOOD) == "Hungry?\n1 — Tacos, 2 — Burritos"
    assert fallback_rules.fallback_text("See", [rules.Button(rules.BUTTON_URL, "Shop", "https://x.example")]) == "See"


def test_the_fallback_counts_against_the_card_text_limit():
    fits = rules.OutgoingMessage(text="Hungry?", buttons=tuple(FOOD))
    assert fallback_rules.check_fallback(fits) == []
    long = rules.OutgoingMessage(text="What would you like to eat today?", buttons=tuple(FOOD))
    assert rules.check_content(long) == []
    assert [v.code for v in fallback_rules.check_fallback(long)] == ["text_too_long_with_fallback"]


@pytest.mark.parametrize(
    ("typed", "titles", "index"),
    [
        ("2", ["Tacos", "Burritos"], 1),
        (" 1 ", ["Tacos", "Burritos"], 0),
        ("burritos", ["Tacos", "Burritos"], 1),
        ("BURRITOS!", ["Tacos", "Burritos"], 1),
        ("3", ["Tacos", "Burritos"], None),
        ("0", ["Tacos", "Burritos"], None),
        ("burrito", ["Tacos", "Burritos"], None),
        ("cafe", ["Café", "Té"], 0),
        ("TE", ["Café", "Té"], 1),
        ("да", ["Да", "Нет"], 0),
        ("НЕТ", ["Да", "Нет"], 1),
        ("еще", ["Ещё", "Хватит"], 0),
        ("Ёще", ["Ещё", "Хватит"], 0),
        ("", ["Tacos"], None),
        ("２", ["Tacos", "Burritos"], 1),  # a full-width digit
    ],
)
def test_typed_reply_matching(typed, titles, index):
    assert fallback_rules.match_button(typed, titles) == index


# ------------------------------------------------------------------------------------------ sending
@pytest.mark.django_db
def test_send_with_text_fallback_lists_the_buttons_in_the_card_title(api, conversation, tiktok):
    add_send(tiktok, message_id="7101")
    buttons = [{"type": "callback", "text": "Tacos"}, {"type": "callback", "text": "Burritos"}]
    response = api.post(
        f"/api/v1/clients/{conversation.client_id}/messages/",
        {"text": "Hungry?", "buttons": buttons, "text_fallback": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert sent_bodies(tiktok)[0]["template"]["title"] == "Hungry?\n1 — Tacos, 2 — Burritos"
    assert response.json()["payload"]["text_fallback"] is True


@pytest.mark.django_db
def test_the_projects_setting_applies_and_a_send_can_turn_it_off(api, conversation, tiktok, project):
    project.button_text_fallback = True
    project.save()
    add_send(tiktok)
    url = f"/api/v1/clients/{conversation.client_id}/messages/"
    buttons = [{"type": "callback", "text": "Yes"}, {"type": "callback", "text": "No"}]
    assert api.post(url, {"text": "Ok?", "buttons": buttons}, format="json").status_code == 201
    off = {"text": "Ok?", "buttons": buttons, "text_fallback": False}
    assert api.post(url, off, format="json").status_code == 201
    assert [b["template"]["title"] for b in sent_bodies(tiktok)] == ["Ok?\n1 — Yes, 2 — No", "Ok?"]


@pytest.mark.django_db
def test_a_fallback_too_long_is_refused_with_its_code(api, conversation, tiktok):
    buttons = [{"type": "callback", "text": "Tacos"}, {"type": "callback", "text": "Burritos"}]
    response = api.post(
        f"/api/v1/clients/{conversation.client_id}/messages/",
        {"text": "What would you like to eat today?", "buttons": buttons, "text_fallback": True},
        format="json",
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["text_too_long_with_fallback"]
    assert sent_bodies(tiktok) == []


@pytest.mark.django_db
def test_validate_reports_the_fallback(api, account):
    buttons = [{"type": "callback", "text": "Tacos"}, {"type": "callback", "text": "Burritos"}]
    body = {"account": account.pk, "text": "Hungry?", "buttons": buttons, "text_fallback": True}
    response = api.post("/api/v1/messages/validate/", body, format="json")
    assert response.status_code == 200
    assert response.json()["fallback_text"] == "Hungry?\n1 — Tacos, 2 — Burritos"
    assert response.json()["valid"] is True
    del body["text_fallback"]
    assert api.post("/api/v1/messages/validate/", body, format="json").json()["fallback_text"] is None


# ------------------------------------------------------------------------------------------ typed replies
@pytest.fixture
def chat(db, client, django_capture_on_commit_callbacks, time_machine):
    """A client who wrote, then was sent a card whose text listed Tacos and Burritos."""
    time_machine.move_to(dt.datetime(2025, 11, 24, 16, 0, 30, tzinfo=dt.UTC), tick=True)
    TikTokAccountFactory(business_id=wc.BUSINESS_ID, username="casa.bonita.mx")
    wc.deliver(client, django_capture_on_commit_callbacks, wc.body_of("im_receive_msg_text"))
    customer = Client.objects.get()
    counter = iter(range(100, 200))

    def card(titles, *, flag=True):
        message = MessageFactory(
            client=customer,
            direction=Message.Direction.OUTBOUND,
            source=Message.Source.BOT,
            kind=Message.Kind.BUTTONS,
            status=Message.Status.SENT,
            text="Hungry?",
        )
        message.payload = {
            "buttons": [
                {"id": f"b{message.pk}-{i}", "type": "callback", "text": t, "url": ""} for i, t in enumerate(titles, 1)
            ],
            "text_fallback": flag,
        }
        message.save()
        return message

    def typed(text):
        body = wc.with_content("im_receive_msg_text", message_id=f"74400000000000{next(counter)}", text={"body": text})
        wc.deliver(client, django_capture_on_commit_callbacks, body)
        return BotEvent.objects.filter(type="client.message").order_by("-id").first().body

    return card, typed


@pytest.mark.parametrize("reply", ["2", "burritos", "Burritos."])
def test_a_typed_number_or_title_reaches_the_bot_as_the_tap(chat, reply):
    card, typed = chat
    sent = card(["Tacos", "Burritos"])
    event = typed(reply)
    assert event["text"] == "Burritos"
    assert event["data"]["button_id"] == f"b{sent.pk}-2"
    assert event["data"]["matched_from_text"] is True
    assert Message.objects.filter(direction="in").order_by("-id").first().kind == Message.Kind.BUTTON_TAP


def test_a_number_past_the_buttons_is_plain_text(chat):
    card, typed = chat
    card(["Tacos", "Burritos"])
    event = typed("3")
    assert event["text"] == "3"
    assert "button_id" not in event["data"]
    assert "matched_from_text" not in event["data"]


def test_cyrillic_and_accented_titles_match(chat):
    card, typed = chat
    sent = card(["Ещё", "Café"])
    assert typed("еще")["data"]["button_id"] == f"b{sent.pk}-1"
    assert typed("CAFE")["data"]["button_id"] == f"b{sent.pk}-2"


def test_only_the_last_card_and_only_with_the_fallback_counts(chat):
    card, typed = chat
    card(["Tacos", "Burritos"])
    card(["Sí", "No"], flag=False)
    assert "button_id" not in typed("2")["data"]
