"""End to end over real HTTP: the bot calls our API on the live server, we call the sandbox playing TikTok,
the sandbox's webhooks come back to the live server and are processed (R5-R10, R14, R15, B4, B7)."""

import time

import pytest
import requests

from channels_tiktok import constants
from channels_tiktok.models import TikTokAccount, WebhookEvent
from clients.api_keys import create_api_key
from clients.models import BotEvent, Message
from tests.factories import ProjectFactory, TikTokAccountFactory
from tests.image_server import PNG

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "sbx-acct-mx-001"
USER = "sbx-user-lucia"


def wait_for(predicate, *, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Bot:
    """The bot builder: our API over real HTTP with a project key."""

    def __init__(self, base_url: str, key: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Api-Key {key}"

    def get(self, path, **kwargs):
        return self.session.get(self.base_url + path, timeout=30, **kwargs)

    def post(self, path, **kwargs):
        return self.session.post(self.base_url + path, timeout=30, **kwargs)


@pytest.fixture
def world(sandbox_live, live_server):
    """A connected account, a bot with a key, and Lucía who just wrote "Hola" (her window is open).

    The echoes of our calls wait until the test flushes them: the in-memory SQLite test database locks whole
    tables, so a webhook processed while a send writes would fail there (PostgreSQL does not care)."""
    sandbox_live.control.configure(echo_mode="manual")
    tokens = sandbox_live.control.issue_token(account=ACCOUNT)
    project = ProjectFactory()
    account = TikTokAccountFactory(
        channel__project=project,
        business_id=tokens["open_id"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )
    _key, raw = create_api_key(project=project, name="bot")
    bot = Bot(live_server.url, raw)
    wrote = sandbox_live.control.user_writes(account=ACCOUNT, user=USER, text="Hola")
    assert wrote["delivery"]["http_status"] == 200
    clients = wait_for(lambda: bot.get("/api/v1/clients/", params={"account": account.pk}).json()["results"])
    client = clients[0]
    assert client["variables"][constants.VAR_CONVERSATION_ID] == wrote["conversation_id"]
    assert client["window"]["open"] is True
    return {"sandbox": sandbox_live, "bot": bot, "account": account, "client": client, "project": project}


def send(world, **body):
    return world["bot"].post(f"/api/v1/clients/{world['client']['id']}/messages/", json=body)


def echo_processed(message_id: str) -> bool:
    return WebhookEvent.objects.filter(
        event=constants.EVENT_SEND_MSG, status=WebhookEvent.Status.PROCESSED, raw_body__contains=message_id
    ).exists()


def test_text_reaches_tiktok_and_its_echo_is_not_logged_twice(world):
    response = send(world, text="¡Hola! ¿Qué se te antoja?")
    assert response.status_code == 201, response.text
    message = response.json()
    sent = world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)
    assert [(m["message_id"], m["type"], m["body"]) for m in sent] == [
        (message["external_id"], "text", {"body": "¡Hola! ¿Qué se te antoja?"})
    ]
    world["sandbox"].control.flush_deliveries()
    wait_for(lambda: echo_processed(message["external_id"]), what="the echo im_send_msg")
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1
    assert not BotEvent.objects.filter(type=BotEvent.Type.OPERATOR_MESSAGE).exists()
    client = world["bot"].get(f"/api/v1/clients/{world['client']['id']}/").json()
    assert client["window"]["messages_left"] == constants.WINDOW_MAX_MESSAGES - 1


def test_image_from_url(world, image_server):
    image_server.routes["/menu.jpg"] = ("body", PNG, {"Content-Type": "image/jpeg"})
    response = send(world, image={"url": image_server.url("/menu.jpg")})
    assert response.status_code == 201, response.text
    sent = world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)
    assert sent[-1]["type"] == "image"
    assert sent[-1]["body"]["media_id"]
    assert response.json()["payload"]["image"]["media_id"] == sent[-1]["body"]["media_id"]


def test_image_refused_where_tiktok_does_not_allow_images(world, image_server):
    world["sandbox"].control.set_capability(user=USER, image_send=False)
    image_server.routes["/menu.png"] = ("body", PNG)
    response = send(world, image={"url": image_server.url("/menu.png")})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "image_not_supported"
    assert world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER) == []


def test_callback_buttons_and_a_tap_comes_back_as_the_button_text(world):
    response = send(
        world, text="¿Tacos o burritos?", buttons=[{"type": "callback", "text": t} for t in ("Tacos", "Burritos")]
    )
    assert response.status_code == 201, response.text
    message = response.json()
    sent = world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)[-1]
    assert sent["type"] == "template"
    assert sent["body"]["type"] == constants.TEMPLATE_QA_BUTTON_CARD
    assert [b["id"] for b in sent["body"]["buttons"]] == [b["id"] for b in message["payload"]["buttons"]]
    tapped = message["payload"]["buttons"][1]
    world["sandbox"].control.user_taps_button(
        account=ACCOUNT,
        user=USER,
        button_id=tapped["id"],
        button_title=tapped["text"],
        message_id=message["external_id"],
    )
    events = wait_for(
        lambda: [e for e in world["bot"].get("/api/v1/events/").json()["results"] if e["text"] == "Burritos"],
        what="the tap's bot event",
    )
    assert events[0]["type"] == "client.message"
    assert events[0]["data"]["button_id"] == tapped["id"]


def test_url_buttons(world):
    buttons = [{"type": "url", "text": "Ver el menú completo", "url": "https://taqueria.example/menu"}]
    response = send(world, text="Nuestro menú", buttons=buttons)
    assert response.status_code == 201, response.text
    sent = world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)[-1]
    assert sent["body"]["type"] == constants.TEMPLATE_QA_LINK_CARD
    assert sent["body"]["buttons"][0]["title"] == "Ver el menú completo"


def test_the_eleventh_message_is_refused_by_us_before_tiktok(world):
    codes = [send(world, text=f"#{n}").status_code for n in range(11)]
    assert codes == [201] * 10 + [409]
    assert len(world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)) == 10


def test_expired_token_is_refreshed_once_and_the_send_succeeds(world):
    world["sandbox"].control.expire_token(account=ACCOUNT, which="access")
    old_token = world["account"].access_token
    response = send(world, text="still here")
    assert response.status_code == 201, response.text
    account = TikTokAccount.objects.get(pk=world["account"].pk)
    assert account.access_token != old_token
    assert account.status == TikTokAccount.Status.ACTIVE
    assert len(world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)) == 1


def test_tiktok_rate_limit_is_retried(world):
    world["sandbox"].control.inject_failure(
        path=constants.PATH_MESSAGE_SEND, mode="code", code=constants.CODE_RATE_LIMITED
    )
    response = send(world, text="after a pause")
    assert response.status_code == 201, response.text
    assert len(world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)) == 1


@pytest.mark.parametrize(("mode", "code"), [("http_error", None), ("code", constants.CODE_SYSTEM_ERROR)])
def test_failure_after_tiktok_acted_is_reported_not_retried(world, mode, code):
    world["sandbox"].control.inject_failure(path=constants.PATH_MESSAGE_SEND, mode=mode, after=True)
    response = send(world, text="maybe twice?")
    assert response.status_code == 502
    assert response.json()["code"] == "tiktok_unavailable"
    assert response.json()["tiktok_code"] == code
    # TikTok did post it once; we did not post it again.
    assert len(world["sandbox"].control.sent_messages(account=ACCOUNT, user=USER)) == 1
    assert Message.objects.get(direction=Message.Direction.OUTBOUND).status == Message.Status.FAILED


def test_comment_reply_with_the_clients_variables_and_with_explicit_ids(world):
    control = world["sandbox"].control
    video = control.add_video(account=ACCOUNT, caption="Tacos al pastor")
    comment = control.user_comments(account=ACCOUNT, user=USER, video_id=video["item_id"], text="¡Se ven deliciosos!")
    client_id = world["client"]["id"]
    variables = wait_for(
        lambda: (
            (v := world["bot"].get(f"/api/v1/clients/{client_id}/variables/").json()).get(constants.VAR_COMMENT_ID)
            and v
        ),
        what="the comment variables",
    )
    assert variables[constants.VAR_COMMENT_ID] == comment["comment_id"]

    first = world["bot"].post(f"/api/v1/clients/{client_id}/comment-replies/", json={"text": "¡Gracias!"})
    assert first.status_code == 201, first.text
    second = world["bot"].post(
        f"/api/v1/clients/{client_id}/comment-replies/",
        json={"text": "Te esperamos", "comment_video_id": video["item_id"], "comment_id": comment["comment_id"]},
    )
    assert second.status_code == 201, second.text
    replies = [c for c in control.comments(video_id=video["item_id"]) if c["owner"]]
    assert sorted(r["comment_id"] for r in replies) == sorted(
        [first.json()["external_id"], second.json()["external_id"]]
    )
    assert {r["text"] for r in replies} == {"¡Gracias!", "Te esperamos"}
    # The account's own replies come back as comment.update webhooks: they are not the client's comments.
    control.flush_deliveries()
    wait_for(
        lambda: WebhookEvent.objects.filter(
            event=constants.EVENT_COMMENT_UPDATE,
            comment_id=second.json()["external_id"],
            status=WebhookEvent.Status.IGNORED,
        ).exists(),
        what="the reply's own webhook",
    )
    new_comment_events = [
        e for e in world["bot"].get("/api/v1/events/").json()["results"] if constants.CALLBACK_NEW_COMMENT in e["text"]
    ]
    assert len(new_comment_events) == 1
