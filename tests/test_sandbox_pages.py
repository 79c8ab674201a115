"""The sandbox's pages over HTTP: only files the sandbox serves itself, the phone view of a conversation as the
server renders it (cards, images, read marks, TikTok Desktop's rendering), and form posts coming back to the
conversation shown."""

import re

import pytest
import requests

from channels_tiktok import constants
from tests.sandbox import call_api

ACCOUNT = "sbx-acct-mx-001"
USER = "sbx-user-lucia"


@pytest.fixture
def token(sandbox):
    return sandbox.control.issue_token(account=ACCOUNT)["access_token"]


def send(sandbox, token, conversation_id, **body):
    payload = {"business_id": ACCOUNT, "recipient_type": "CONVERSATION", "recipient": conversation_id, **body}
    envelope = call_api(sandbox, "POST", constants.PATH_MESSAGE_SEND, token=token, json=payload)
    assert envelope["code"] == 0, envelope
    return envelope["data"].get("message", {}).get("message_id")


def card(kind, title, *buttons):
    return {"type": kind, "title": title, "buttons": [{"type": "REPLY", "title": t, "id": i} for t, i in buttons]}


def consent_url(sandbox):
    query = {
        "client_key": sandbox.sandbox.config.app_id,
        "response_type": "code",
        "scope": ",".join(constants.ALL_SCOPES),
        "redirect_uri": "http://127.0.0.1:8000/tiktok/oauth/callback/",
        "state": "s",
    }
    return requests.Request("GET", sandbox.authorize_url, params=query).prepare().url


@pytest.mark.parametrize("page", ["/sandbox/", "consent"])
def test_pages_load_only_files_the_sandbox_serves(sandbox, page):
    html = requests.get(consent_url(sandbox) if page == "consent" else sandbox.url + page, timeout=5).text
    assets = re.findall(r'<(?:link|script)[^>]+(?:href|src)="([^"]+)"', html)

    assert assets
    for asset in assets:
        assert asset.startswith("/sandbox/static/"), asset
        answer = requests.get(sandbox.url + asset, timeout=5)
        assert answer.status_code == 200
        expected = "text/css" if asset.endswith(".css") else "javascript"
        assert expected in answer.headers["Content-Type"]
    assert "https://" not in html.replace("https://p16-sign.tiktokcdn.com", "").replace("https://www.tiktok.com", "")


@pytest.mark.parametrize("name", ["nope.css", ".hidden", "../state.py", "%2e%2e%2fstate.py"])
def test_static_files_outside_the_folder_are_not_served(sandbox, name):
    assert requests.get(f"{sandbox.url}/sandbox/static/{name}", timeout=5).status_code == 404


def test_phone_view_draws_cards_images_and_read_marks(sandbox, token):
    conversation_id = sandbox.control.user_writes(text="Hola")["conversation_id"]
    button_card = send(
        sandbox,
        token,
        conversation_id,
        message_type="TEMPLATE",
        template=card("QA_BUTTON_CARD", "¿Qué quieres?", ("Menú", "menu"), ("Pedido", "order")),
    )
    send(
        sandbox, token, conversation_id, message_type="TEMPLATE", template=card("QA_LINK_CARD", "Web", ("Abrir", "web"))
    )
    image = sandbox.control.user_sends_image()["media_id"]
    send(sandbox, token, conversation_id, message_type="SENDER_ACTION", sender_action="MARK_READ")
    sandbox.control.user_taps_button(button_id="order", message_id=button_card)

    phone = requests.get(f"{sandbox.url}/sandbox/?account={ACCOUNT}&user={USER}", timeout=5).text
    desktop = requests.get(f"{sandbox.url}/sandbox/?account={ACCOUNT}&user={USER}&view=desktop", timeout=5).text

    assert 'class="device mobile"' in phone
    assert 'class="device desktop"' in desktop
    taps = re.findall(r'name="message_id" value="(\d+)">\s*<input type="hidden" name="button_id" value="(\w+)"', phone)
    assert taps[:2] == [(button_card, "menu"), (button_card, "order")]
    assert 'class="card mobile-only link-card"' in phone
    assert phone.count("buttons are shown only in the TikTok app") == 2  # one per card, drawn for the desktop
    assert f'src="/sandbox/preview/{image}/"' in phone
    assert re.search(r"Seen</div>", phone)  # the business marked the user's messages read
    assert "tapped order" in phone
    preview = requests.get(f"{sandbox.url}/sandbox/preview/{image}/", timeout=5)
    assert (preview.status_code, preview.content[:4]) == (200, b"\x89PNG")
    assert requests.get(f"{sandbox.url}/sandbox/preview/nope/", timeout=5).status_code == 404


def test_a_form_post_comes_back_to_the_conversation_and_device_shown(sandbox):
    browser = requests.Session()
    browser.get(f"{sandbox.url}/sandbox/?account=sbx-acct-br-002&user=sbx-user-pedro&view=desktop", timeout=5)

    posted = browser.post(
        sandbox.url + "/sandbox/control/user_writes/",
        data={"account": "sbx-acct-br-002", "user": "sbx-user-pedro", "text": "Olá"},
        timeout=5,
    )

    assert posted.history[0].status_code == 302
    assert 'data-account="sbx-acct-br-002" data-user="sbx-user-pedro"' in posted.text
    assert 'class="device desktop"' in posted.text
    assert "user_writes: " in posted.text
    assert re.search(r'class="bubble">Olá</div>', posted.text)


def test_the_page_opens_the_most_recent_conversation_by_default(sandbox):
    sandbox.control.user_writes(user="sbx-user-pedro", text="primero")
    sandbox.control.user_writes(account="sbx-acct-br-002", user="sbx-user-joe", text="después")

    page = requests.get(sandbox.url + "/sandbox/", timeout=5).text

    assert 'data-account="sbx-acct-br-002" data-user="sbx-user-joe"' in page
    assert "im_receive_msg_eu" in page  # Joe is in a restricted region: the page says what TikTok delivers
