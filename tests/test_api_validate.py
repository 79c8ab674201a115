"""`POST /api/v1/messages/validate/`: the send's rules as a dry run (B4)."""

import datetime as dt

import pytest
from django.utils import timezone

from channels_tiktok.models import Conversation, TikTokAccount
from clients.models import Message
from tests.factories import ConversationFactory, TikTokAccountFactory
from tests.image_server import GIF, PNG
from tests.outbound_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages/validate/"


def test_valid_message_with_buttons_warns_about_desktop(api, account):
    body = {"account": account.pk, "text": "Pick", "buttons": [{"type": "callback", "text": "Yes"}]}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert response.json()["errors"] == []
    assert [w["code"] for w in response.json()["warnings"]] == ["buttons_hidden_on_desktop"]


def test_every_violation_is_listed(api, account):
    buttons = [{"type": "callback", "text": "x" * 21}] * 4
    response = api.post(URL, {"account": account.pk, "text": "y" * 41, "buttons": buttons}, format="json")
    assert response.status_code == 200
    codes = [e["code"] for e in response.json()["errors"]]
    assert response.json()["valid"] is False
    assert set(codes) == {"too_many_buttons", "button_text_too_long", "text_too_long_for_buttons"}
    assert codes.count("button_text_too_long") == 4


def test_with_a_client_the_window_is_checked_and_nothing_is_used(api, conversation, tiktok):
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - dt.timedelta(hours=49))
    body = {"account": conversation.account.pk, "client": conversation.client.pk, "text": "hi"}
    response = api.post(URL, body, format="json")
    assert response.json() == {
        "valid": False,
        "errors": [{"code": "window_closed", "field": None, "message": response.json()["errors"][0]["message"]}],
        "warnings": [],
        "fallback_text": None,
    }
    assert len(tiktok.calls) == 0
    assert not Message.objects.exists()
    assert Conversation.objects.get(pk=conversation.pk).window_sent == 0


def test_client_without_conversation(api, account):
    from tests.factories import ClientFactory

    client = ClientFactory(channel=account.channel)
    response = api.post(URL, {"account": account.pk, "client": client.pk, "text": "hi"}, format="json")
    assert [e["code"] for e in response.json()["errors"]] == ["no_conversation"]


def test_image_url_is_fetched_and_judged(api, account, image_server, settings):
    settings.IMAGE_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    image_server.routes["/ok.jpg"] = ("body", PNG)
    image_server.routes["/anim.png"] = ("body", GIF)
    ok = api.post(URL, {"account": account.pk, "image": {"url": image_server.url("/ok.jpg")}}, format="json")
    assert ok.json()["valid"] is True
    bad = api.post(URL, {"account": account.pk, "image": {"url": image_server.url("/anim.png")}}, format="json")
    assert [e["code"] for e in bad.json()["errors"]] == ["image_format_unsupported"]


def test_private_image_url_is_an_error(api, account):
    response = api.post(URL, {"account": account.pk, "image": {"url": "http://10.1.1.1/x.png"}}, format="json")
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [("image_url_forbidden", "image")]


def test_unavailable_account_is_an_error(api, account):
    TikTokAccount.objects.filter(pk=account.pk).update(country="GB")
    response = api.post(URL, {"account": account.pk, "text": "hi"}, format="json")
    assert [e["code"] for e in response.json()["errors"]] == ["account_unavailable"]


def test_image_not_supported_from_the_last_capability_answer(api, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(image_send_allowed=False, image_checked_at=timezone.now())
    body = {
        "account": conversation.account.pk,
        "client": conversation.client.pk,
        "image": {"url": "https://a.example/x.png"},
    }
    response = api.post(URL, body, format="json")
    assert "image_not_supported" in [e["code"] for e in response.json()["errors"]]


def test_another_projects_account_or_client_is_404(api, account):
    other = TikTokAccountFactory()
    assert api.post(URL, {"account": other.pk, "text": "hi"}, format="json").status_code == 404
    other_client = ConversationFactory().client
    body = {"account": account.pk, "client": other_client.pk, "text": "hi"}
    assert api.post(URL, body, format="json").status_code == 404


def test_account_is_required(api):
    response = api.post(URL, {"text": "hi"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "code": "required",
        "field": "account",
        "message": "This field is required.",
    }
