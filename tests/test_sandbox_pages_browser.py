"""The sandbox's /sandbox/ page in a real browser: the phone view of a conversation draws a button card the
product sent, TikTok Desktop's rendering shows the card's text without its buttons, and tapping a button on the
phone delivers the tap as TikTok's webhook."""

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from channels_tiktok import constants

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
ACCOUNT = "sbx-acct-mx-001"
USER = "sbx-user-lucia"
BUTTONS = [("Ver el menú", "menu"), ("Hacer un pedido", "order"), ("Hablar con alguien", "human")]


def send_button_card(sandbox) -> str:
    """The product's TikTok client sends a QA_BUTTON_CARD with three buttons, as a bot's reply would be sent."""
    from channels_tiktok.tiktok.client import TikTokClient

    tokens = sandbox.control.issue_token(account=ACCOUNT)
    conversation_id = sandbox.control.user_writes(account=ACCOUNT, user=USER, text="Hola")["conversation_id"]
    template = {
        "type": constants.TEMPLATE_QA_BUTTON_CARD,
        "title": "¿Qué te gustaría hacer?",
        "buttons": [{"type": constants.BUTTON_TYPE_REPLY, "title": title, "id": id_} for title, id_ in BUTTONS],
    }
    return TikTokClient(tokens["access_token"]).send_message(
        business_id=ACCOUNT,
        conversation_id=conversation_id,
        message_type=constants.MESSAGE_TYPE_TEMPLATE,
        body={"template": template},
    )


@pytest.mark.browser
def test_phone_view_draws_the_button_card_desktop_hides_its_buttons_and_a_tap_is_delivered(
    sandbox_settings, webhook_receiver
):
    from playwright.sync_api import expect, sync_playwright

    sandbox = sandbox_settings
    card_id = send_button_card(sandbox)
    sandbox.control.wait_for_deliveries()
    received_before = len(webhook_receiver.requests)

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            page = context.new_page()
            page.goto(f"{sandbox.url}/sandbox/?account={ACCOUNT}&user={USER}")

            # The TikTok app: the card with its title and three buttons, on the business's side.
            device = page.locator("#device")
            expect(device).to_have_class("device mobile")
            card = page.locator(f'.msg[data-message-id="{card_id}"]')
            expect(card).to_have_class("msg theirs kind-card")
            expect(card.locator(".card .card-title")).to_have_text("¿Qué te gustaría hacer?")
            expect(card.locator(".card-button")).to_have_text([title for title, _ in BUTTONS])
            expect(card.locator(".fallback-note")).to_be_hidden()
            expect(page.locator(".msg.mine .bubble").first).to_have_text("Hola")
            page.screenshot(path=str(ARTIFACTS / "sandbox-phone-view.png"), full_page=True)

            # TikTok Desktop: the text, no buttons, and the note.
            page.get_by_role("link", name="TikTok Desktop").click()
            expect(device).to_have_class("device desktop")
            expect(card.locator(".card-button").first).to_be_hidden()
            expect(card.locator(".desktop-card .bubble")).to_have_text("¿Qué te gustaría hacer?")
            expect(card.locator(".fallback-note")).to_have_text("buttons are shown only in the TikTok app")
            assert "view=desktop" in page.url
            page.screenshot(path=str(ARTIFACTS / "sandbox-desktop-view.png"), full_page=True)

            # Back on the phone, the user taps "Hacer un pedido".
            page.get_by_role("link", name="TikTok app (phone)").click()
            expect(device).to_have_class("device mobile")
            card.get_by_role("button", name="Hacer un pedido").click()
            expect(page.locator(".flash")).to_have_text("user_taps_button: delivered")
            expect(page.locator(".msg.mine .bubble").last).to_have_text("Hacer un pedido")
            expect(page.locator(".deliveries tbody tr").first.locator(".status")).to_have_text("delivered")
        finally:
            browser.close()

    [tap] = webhook_receiver.requests[received_before:]
    envelope = json.loads(tap["body"])
    content = json.loads(envelope["content"])
    assert (envelope["event"], envelope["user_openid"]) == ("im_receive_msg", ACCOUNT)
    assert content["text"] == {"body": "Hacer un pedido"}
    assert content["reply_source_payload"] == {"reply_source_msg_id": card_id, "reply_source_unique_id": "order"}
