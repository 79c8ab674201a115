"""Processing journal rows into clients, variables, conversations, the message log and bot events (R4, R11-R13)."""

import datetime as dt
import json
import re

import pytest
import responses
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.models import Conversation, TikTokAccount, WebhookEvent
from channels_tiktok.webhooks import journal, processing
from clients.models import BotEvent, Client, Message
from tests import webhook_cases as wc
from tests.factories import MessageFactory, TikTokAccountFactory

pytestmark = pytest.mark.django_db

API = "https://business-api.tiktok.com/open_api/v1.3/"
COMMENT_TEXT = "¿Tienen esta chaqueta en talla M? 🧥"


@pytest.fixture(autouse=True)
def _at_fixture_time(time_machine):
    """The fixtures were sent on 2025-11-24 at 16:00 UTC; process them half a minute later."""
    time_machine.move_to(dt.datetime(2025, 11, 24, 16, 0, 30, tzinfo=dt.UTC), tick=True)


@pytest.fixture
def account():
    return TikTokAccountFactory(business_id=wc.BUSINESS_ID, username="casa.bonita.mx", display_name="Casa Bonita")


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    def _deliver(name_or_body):
        body = wc.body_of(name_or_body) if isinstance(name_or_body, str) else name_or_body
        return wc.deliver(client, django_capture_on_commit_callbacks, body)

    return _deliver


@pytest.fixture
def tiktok():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def comment_list_answer(mock, *, text=COMMENT_TEXT, author=wc.USER_ID, comment_id=int(wc.COMMENT_ID)):
    mock.get(
        API + constants.PATH_COMMENT_LIST,
        json={
            "code": 0,
            "message": "OK",
            "request_id": "req-1",
            "data": {
                "comments": [
                    {
                        "comment_id": comment_id,
                        "video_id": int(wc.VIDEO_ID),
                        "text": text,
                        "unique_identifier": author,
                        "username": "maria.lopez",
                        "display_name": "Maria Lopez",
                        "parent_comment_id": wc.VIDEO_ID,
                    }
                ]
            },
        },
    )


def variables(client):
    return dict(client.variables.values_list("key", "value"))


def only_event(event_type=None):
    events = BotEvent.objects.filter(type=event_type) if event_type else BotEvent.objects.all()
    assert events.count() == 1, list(events.values_list("type", flat=True))
    return events.get()


# ------------------------------------------------------------------------------------------ im_receive_msg
def test_text_message_creates_client_variables_window_log_and_bot_event(account, deliver):
    row = deliver("im_receive_msg_text")
    assert row.status == WebhookEvent.Status.PROCESSED
    assert row.account_id == account.pk
    assert row.attempts == 1
    client = Client.objects.get()
    assert (client.channel_id, client.external_id, client.username) == (account.pk, wc.USER_ID, "maria.lopez")
    assert variables(client) == {
        constants.VAR_CONVERSATION_ID: wc.CONVERSATION_ID,
        constants.VAR_IS_FOLLOWER: "True",
    }
    conversation = Conversation.objects.get()
    sent_at = dt.datetime(2025, 11, 24, 16, 0, 0, 123000, tzinfo=dt.UTC)
    assert (conversation.client, conversation.conversation_id) == (client, wc.CONVERSATION_ID)
    assert (conversation.last_inbound_at, conversation.window_sent) == (sent_at, 0)
    message = Message.objects.get()
    assert (message.direction, message.kind, message.source, message.status) == ("in", "text", "client", "received")
    assert (message.text, message.external_id, message.client) == (
        "Hola! Do you ship to Monterrey?",
        "7440000000000000001",
        client,
    )
    event = only_event()
    body = event.body
    assert set(body) == {"id", "type", "created_at", "account", "client", "text", "data"}
    assert body["id"] == str(event.uuid)
    assert body["type"] == "client.message"
    assert dt.datetime.fromisoformat(body["created_at"]) <= timezone.now()
    assert body["account"] == {"id": account.pk, "business_id": wc.BUSINESS_ID, "username": "casa.bonita.mx"}
    assert body["client"] == {
        "id": client.pk,
        "external_id": wc.USER_ID,
        "display_name": "",
        "variables": {"tiktok_conversation_id": wc.CONVERSATION_ID, "tiktok_is_follower": "True"},
    }
    assert body["text"] == "Hola! Do you ship to Monterrey?"
    assert body["data"] == {
        "message_id": "7440000000000000001",
        "conversation_id": wc.CONVERSATION_ID,
        "type": "text",
        "kind": "text",
    }
    assert event.status == BotEvent.DeliveryStatus.NOT_PUSHED  # the project has no callback URL: pull only
    account.refresh_from_db()
    assert account.last_webhook_at == row.received_at


def test_a_text_cut_inside_an_emoji_reaches_the_bot_with_a_replacement_character(account, deliver):
    row = deliver(wc.with_content("im_receive_msg_text", text={"body": "Hola \ud83d"}))
    assert row.status == WebhookEvent.Status.PROCESSED
    assert Message.objects.get().text == "Hola \ufffd"
    assert only_event().body["text"] == "Hola \ufffd"


def test_follower_flag_follows_the_latest_message(account, deliver):
    deliver("im_receive_msg_text")
    deliver(wc.with_content("im_receive_msg_text", message_id="7440000000000000009", is_follower=False))
    assert variables(Client.objects.get())[constants.VAR_IS_FOLLOWER] == "False"
    deliver(wc.with_content("im_receive_msg_text", message_id="7440000000000000010", is_follower="True"))
    assert variables(Client.objects.get())[constants.VAR_IS_FOLLOWER] == "True"


def test_a_new_message_resets_the_window(account, deliver):
    deliver("im_receive_msg_text")
    Conversation.objects.update(window_sent=7)
    deliver(wc.with_content("im_receive_msg_text", message_id="7440000000000000011", timestamp=1764000020000))
    conversation = Conversation.objects.get()
    assert conversation.window_sent == 0
    assert conversation.last_inbound_at == dt.datetime(2025, 11, 24, 16, 0, 20, tzinfo=dt.UTC)


def test_button_tap_gives_the_button_text_and_our_button_id(account, deliver):
    deliver("im_receive_msg_button_tap")
    message = Message.objects.get()
    assert (message.kind, message.text) == (Message.Kind.BUTTON_TAP, "Yes, please")
    event = only_event()
    assert event.body["text"] == "Yes, please"
    assert event.body["data"]["button_id"] == "btn_yes"
    assert event.body["data"]["button_message_id"] == "7439999999999999001"


def test_share_post_becomes_the_share_callback_line(account, deliver):
    deliver("im_receive_msg_share_post")
    expected = "tiktok_client_share_post 7438011223344556677 https://www.tiktok.com/@shop/video/7438011223344556677"
    event = only_event()
    assert event.body["text"] == expected
    assert event.body["data"]["video_id"] == "7438011223344556677"
    message = Message.objects.get()
    assert (message.kind, message.text, message.payload["video_id"]) == (
        Message.Kind.SHARE_POST,
        expected,
        wc.VIDEO_ID,
    )


def test_share_post_falls_back_to_the_share_url(account, deliver):
    body = wc.with_content(
        "im_receive_msg_share_post",
        share_post={"video_id": 7438011223344556600, "share_url": "https://vm.tiktok.com/ZMabc123/"},
    )
    deliver(body)
    assert only_event().body["text"] == "tiktok_client_share_post 7438011223344556600 https://vm.tiktok.com/ZMabc123/"


def test_image_keeps_the_media_reference_and_download_url(account, deliver, tiktok):
    tiktok.post(
        API + constants.PATH_MEDIA_DOWNLOAD,
        json={"code": 0, "message": "OK", "data": {"download_url": "https://media.tiktok.example/img/abc.jpg"}},
    )
    deliver("im_receive_msg_image")
    request = tiktok.calls[0].request
    assert request.headers[constants.ACCESS_TOKEN_HEADER] == account.access_token
    assert b'"media_id": "v0c025g50000ct1mediaidabcdef"' in request.body
    image = {"media_id": "v0c025g50000ct1mediaidabcdef", "url": "https://media.tiktok.example/img/abc.jpg"}
    message = Message.objects.get()
    link = message.payload["image"].pop("link")
    assert (message.kind, message.payload["image"]) == (Message.Kind.IMAGE, image)
    assert only_event("client.message").body["data"]["image"] == {**image, "link": link}


def test_image_still_reaches_the_bot_when_the_download_url_fails(account, deliver, tiktok):
    tiktok.post(API + constants.PATH_MEDIA_DOWNLOAD, json={"code": 40001, "message": "No permission"})
    row = deliver("im_receive_msg_image")
    assert row.status == WebhookEvent.Status.PROCESSED
    image = only_event("client.message").body["data"]["image"]
    assert image.pop("link").startswith("http")  # our link: the copy asks TikTok again later
    assert image == {"media_id": "v0c025g50000ct1mediaidabcdef", "error": "No permission"}


def test_template_type_is_logged_and_told_to_the_bot_with_a_placeholder(account, deliver):
    row = deliver(wc.with_content("im_receive_msg_sticker", type="template", template={"title": "Menu"}))
    assert (row.status, row.error) == (WebhookEvent.Status.PROCESSED, "")
    message = Message.objects.get()
    assert (message.kind, message.text) == (Message.Kind.TEMPLATE, "[template message]")
    event = only_event()
    data = event.body["data"]
    assert (data["kind"], data["type"], data["template"]) == ("template", "template", {"title": "Menu"})
    assert event.body["text"] == "[template message]"
    assert "unsupported" not in data
    assert Conversation.objects.get().last_inbound_at is not None  # the user wrote: the window opens


def test_an_unknown_type_is_told_as_other_with_its_block(account, deliver):
    row = deliver(wc.with_content("im_receive_msg_sticker", type="poll", poll={"q": "?"}))
    assert row.status == WebhookEvent.Status.PROCESSED
    assert "'poll'" in row.error
    event = only_event()
    assert (event.body["data"]["kind"], event.body["data"]["type"]) == ("other", "poll")
    assert event.body["data"]["poll"] == {"q": "?"}
    assert event.body["text"] == "[message of another type]"


# ------------------------------------------------------------------------------ restricted region, R4
def test_restricted_region_message_is_logged_with_the_reason(account, deliver):
    row = deliver("im_receive_msg_eu")
    assert (row.status, row.error) == (WebhookEvent.Status.PROCESSED, "restricted_region")
    message = Message.objects.get()
    assert (message.client, message.kind, message.status, message.error_code) == (
        None,
        Message.Kind.BLOCKED,
        Message.Status.BLOCKED,
        "restricted_region",
    )
    event = only_event()
    assert event.type == "client.message_blocked"
    assert event.body["client"] is None
    assert event.body["data"]["reason"] == "restricted_region"
    assert not Client.objects.exists()
    assert not BotEvent.objects.filter(type="client.message").exists()


# ------------------------------------------------------------------------------------------------ im_send_msg
def test_api_echo_of_a_recorded_send_marks_it_sent_and_logs_nothing_new(account, deliver):
    deliver("im_receive_msg_text")
    ours = MessageFactory(
        client=Client.objects.get(),
        direction=Message.Direction.OUTBOUND,
        source=Message.Source.BOT,
        status=Message.Status.QUEUED,
        external_id="7440000000000000101",
    )
    row = deliver("im_send_msg_api")
    assert row.status == WebhookEvent.Status.PROCESSED
    ours.refresh_from_db()
    assert ours.status == Message.Status.SENT
    assert Message.objects.filter(direction="out").count() == 1
    assert not BotEvent.objects.filter(type="operator.message").exists()


def test_api_echo_before_the_send_is_recorded_creates_no_row(account, deliver):
    deliver("im_receive_msg_text")
    row = deliver("im_send_msg_api")
    assert row.status == WebhookEvent.Status.PROCESSED
    assert "send service" in row.error
    assert not Message.objects.filter(direction="out").exists()
    # The send service then records TikTok's id on its own row: one row, no conflict.
    MessageFactory(
        client=Client.objects.get(), direction="out", source="bot", status="sent", external_id="7440000000000000101"
    )
    assert Message.objects.filter(direction="out").count() == 1


def test_operator_message_from_the_app_is_logged_counted_and_told(account, deliver):
    deliver("im_receive_msg_text")
    row = deliver("im_send_msg_app")
    assert (row.status, row.error) == (WebhookEvent.Status.PROCESSED, "")
    message = Message.objects.get(direction="out")
    assert (message.source, message.status, message.text, message.external_id) == (
        Message.Source.OPERATOR,
        Message.Status.SENT,
        "Hi Maria, this is Ana from the shop.",
        "7440000000000000102",
    )
    assert Conversation.objects.get().window_sent == 1
    event = only_event("operator.message")
    assert event.body["text"] == "Hi Maria, this is Ana from the shop."
    assert event.body["client"]["external_id"] == wc.USER_ID
    assert event.body["data"]["source"] == "APP"


def test_operator_message_with_the_window_used_up_is_still_logged(account, deliver):
    deliver("im_receive_msg_text")
    Conversation.objects.update(window_sent=constants.WINDOW_MAX_MESSAGES)
    row = deliver("im_send_msg_app")
    assert "window" in row.error
    message = Message.objects.get(direction="out")
    assert message.payload["window_exceeded"] is True
    assert Conversation.objects.get().window_sent == constants.WINDOW_MAX_MESSAGES


def test_operator_message_to_a_conversation_we_never_saw_creates_the_client(account, deliver):
    deliver("im_send_msg_app")
    client = Client.objects.get()
    assert (client.external_id, client.username) == (wc.USER_ID, "maria.lopez")
    assert variables(client) == {constants.VAR_CONVERSATION_ID: wc.CONVERSATION_ID}
    assert Message.objects.get().source == Message.Source.OPERATOR


# ------------------------------------------------------------------------------------------- im_mark_read_msg
def test_read_receipt_marks_outbound_messages_read_up_to_its_time(account, deliver):
    deliver("im_receive_msg_text")
    client = Client.objects.get()
    read_until = dt.datetime(2025, 11, 24, 16, 0, 4, tzinfo=dt.UTC)
    before = MessageFactory(
        client=client, direction="out", source="bot", status="sent", sent_at=read_until - dt.timedelta(seconds=2)
    )
    after = MessageFactory(
        client=client, direction="out", source="bot", status="sent", sent_at=read_until + dt.timedelta(seconds=2)
    )
    row = deliver("im_mark_read_msg")
    assert row.status == WebhookEvent.Status.PROCESSED
    before.refresh_from_db()
    after.refresh_from_db()
    assert (before.status, before.read_at) == (Message.Status.READ, read_until)
    assert after.status == Message.Status.SENT
    event = only_event("message.status")
    assert event.body["data"] == {
        "message": before.pk,
        "message_id": before.external_id,
        "status": "read",
        "read_at": read_until.isoformat(),
    }


def test_read_receipt_for_an_unknown_conversation_is_ignored(account, deliver):
    row = deliver("im_mark_read_msg")
    assert row.status == WebhookEvent.Status.IGNORED
    assert "unknown conversation" in row.error


# ------------------------------------------------------------------------------ comments, the R11 callback
def test_new_comment_becomes_the_comment_callback_with_exact_ids(account, deliver, tiktok):
    comment_list_answer(tiktok)
    row = deliver("comment_update_insert")
    assert row.status == WebhookEvent.Status.PROCESSED
    request = tiktok.calls[0].request
    assert f"video_id={wc.VIDEO_ID}" in request.url
    assert re.search(r"comment_ids=%5B%22" + wc.COMMENT_ID + "%22%5D", request.url)
    client = Client.objects.get()
    assert (client.external_id, client.username, client.display_name) == (wc.USER_ID, "maria.lopez", "Maria Lopez")
    assert variables(client) == {
        constants.VAR_COMMENT_ID: "7439122334455667788",
        constants.VAR_COMMENT_VIDEO_ID: "7438011223344556677",
    }
    message = Message.objects.get()
    assert (message.kind, message.text, message.external_id) == (Message.Kind.COMMENT, COMMENT_TEXT, wc.COMMENT_ID)
    event = only_event()
    assert event.body["text"] == f"tiktok_client_new_comment 7438011223344556677: {COMMENT_TEXT}"
    assert event.body["data"]["comment_id"] == "7439122334455667788"
    assert event.body["client"]["variables"][constants.VAR_COMMENT_VIDEO_ID] == "7438011223344556677"


def test_a_comment_text_cut_inside_an_emoji_reaches_the_bot_with_a_replacement_character(account, deliver, tiktok):
    comment_list_answer(tiktok, text="Precio? \ud83d")  # TikTok's JSON answer escapes it as `\ud83d`
    row = deliver("comment_update_insert")
    assert row.status == WebhookEvent.Status.PROCESSED
    assert Message.objects.get().text == "Precio? \ufffd"


def test_a_commenter_who_also_writes_is_one_client(account, deliver, tiktok):
    comment_list_answer(tiktok)
    deliver("im_receive_msg_text")
    deliver("comment_update_insert")
    client = Client.objects.get()
    assert set(variables(client)) == {
        constants.VAR_CONVERSATION_ID,
        constants.VAR_IS_FOLLOWER,
        constants.VAR_COMMENT_ID,
        constants.VAR_COMMENT_VIDEO_ID,
    }


def test_the_accounts_own_comment_is_not_a_callback(account, deliver, tiktok):
    row = deliver(wc.with_content("comment_update_insert", unique_identifier=wc.BUSINESS_ID))
    assert row.status == WebhookEvent.Status.IGNORED
    assert not tiktok.calls
    assert not BotEvent.objects.exists()


def test_a_reply_we_created_is_not_a_callback(account, deliver, tiktok):
    MessageFactory(
        client__channel=account.channel,
        direction="out",
        kind=Message.Kind.COMMENT_REPLY,
        source="bot",
        status="sent",
        external_id=wc.COMMENT_ID,
    )
    row = deliver(wc.with_content("comment_update_insert", unique_identifier=""))
    assert (row.status, row.error) == (WebhookEvent.Status.IGNORED, "the account's own comment or reply")
    assert not tiktok.calls  # known before TikTok is asked for the comment
    assert not BotEvent.objects.exists()


def test_a_reply_we_log_while_tiktok_is_asked_for_the_comment_is_not_a_callback(account, deliver, tiktok):
    """Our reply, logged by the reply service while the comment is being read from TikTok (between processing's two
    transactions), is recognised when the comment is applied."""

    def answer(request):
        MessageFactory(
            client__channel=account.channel,
            direction="out",
            kind=Message.Kind.COMMENT_REPLY,
            source="bot",
            status="sent",
            external_id=wc.COMMENT_ID,
        )
        comment = {"comment_id": int(wc.COMMENT_ID), "video_id": int(wc.VIDEO_ID), "text": "Gracias!"}
        return 200, {}, json.dumps({"code": 0, "message": "OK", "data": {"comments": [comment]}})

    tiktok.add_callback(responses.GET, API + constants.PATH_COMMENT_LIST, callback=answer)
    row = deliver(wc.with_content("comment_update_insert", unique_identifier=""))
    assert len(tiktok.calls) == 1
    assert (row.status, row.error) == (WebhookEvent.Status.IGNORED, "the account's own comment or reply")
    assert not BotEvent.objects.exists()


@pytest.mark.parametrize("name", ["comment_update_delete"])
def test_other_comment_actions_become_comment_status_events(account, deliver, name):
    row = deliver(name)
    assert row.status == WebhookEvent.Status.PROCESSED
    assert not Message.objects.exists()
    event = BotEvent.objects.get()
    assert event.type == "comment.status"
    assert event.body["data"]["action"] == "delete"
    assert event.client is None


def test_comment_fetch_failure_is_retried_by_the_sweeper(account, deliver, tiktok, django_capture_on_commit_callbacks):
    tiktok.get(API + constants.PATH_COMMENT_LIST, json={"code": 50000, "message": "System error"})
    row = deliver("comment_update_insert")
    assert row.status == WebhookEvent.Status.FAILED
    assert "System error" in row.error
    assert row.next_attempt_at is not None
    assert not Client.objects.exists()
    tiktok.replace(
        responses.GET,
        API + constants.PATH_COMMENT_LIST,
        json={
            "code": 0,
            "data": {"comments": [{"comment_id": wc.COMMENT_ID, "text": "hi", "unique_identifier": "u1"}]},
        },
    )
    assert journal.sweep(now=timezone.now()) == 0  # the retry is not due yet
    with django_capture_on_commit_callbacks(execute=True):
        assert journal.sweep(now=row.next_attempt_at) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert only_event().body["text"] == "tiktok_client_new_comment 7438011223344556677: hi"


# ------------------------------------------------------------------------------------------- routing
def test_unknown_business_id_is_ignored_with_the_reason(deliver):
    TikTokAccountFactory(business_id="someone-else")
    row = deliver("im_receive_msg_text")
    assert row.status == WebhookEvent.Status.IGNORED
    assert wc.BUSINESS_ID in row.error
    assert not Client.objects.exists()


def test_events_without_a_handler_are_ignored_with_a_note(account, deliver):
    row = deliver("unknown_event")
    assert row.status == WebhookEvent.Status.IGNORED
    assert "unknown event" in row.error


def test_a_referral_with_its_ids_on_the_referral_itself_is_read(account, deliver):
    row = deliver("im_referral_msg")
    assert row.status == WebhookEvent.Status.PROCESSED
    event = only_event()
    assert event.type == "client.referral"
    assert (event.body["data"]["source"], event.body["data"]["ad_id"]) == ("ad", "1811122233344455")
    assert event.body["client"]["variables"]["tiktok_short_link_ref"] == "summer_sale"


def test_account_needing_reauthorisation_still_processes_inbound(account, deliver, tiktok):
    TikTokAccount.objects.filter(pk=account.pk).update(
        status=TikTokAccount.Status.NEEDS_REAUTH, status_reason="refresh token expired"
    )
    assert deliver("im_receive_msg_text").status == WebhookEvent.Status.PROCESSED
    image_row = deliver("im_receive_msg_image")
    assert image_row.status == WebhookEvent.Status.PROCESSED
    assert BotEvent.objects.get(body__data__type="image").body["data"]["image"]["error"] == "refresh token expired"
    comment_row = deliver("comment_update_insert")
    assert comment_row.status == WebhookEvent.Status.FAILED
    assert "account unavailable" in comment_row.error
    assert comment_row.next_attempt_at is None  # nothing to gain from retrying until the owner reconnects
    assert not tiktok.calls


# ------------------------------------------------------------------------------------------- idempotency
@pytest.mark.parametrize(
    "name",
    [
        "im_receive_msg_text",
        "im_receive_msg_share_post",
        "im_receive_msg_eu",
        "im_send_msg_app",
        "comment_update_insert",
    ],
)
def test_replay_changes_nothing_twice(account, deliver, tiktok, name, django_capture_on_commit_callbacks):
    comment_list_answer(tiktok)
    deliver("im_receive_msg_text")
    row = deliver(name)
    counts = (Message.objects.count(), BotEvent.objects.count(), Client.objects.count())
    window = Conversation.objects.values_list("last_inbound_at", "window_sent").first()
    with django_capture_on_commit_callbacks(execute=True):
        journal.replay(event=row)
        journal.replay(event=row)
    row.refresh_from_db()
    assert row.attempts == 3
    assert (Message.objects.count(), BotEvent.objects.count(), Client.objects.count()) == counts
    assert Conversation.objects.values_list("last_inbound_at", "window_sent").first() == window


def test_a_processed_row_is_not_processed_again_by_a_late_task(account, deliver):
    row = deliver("im_receive_msg_text")
    processing.process_event(event_id=row.pk)
    row.refresh_from_db()
    assert row.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_tiktok_is_called_outside_any_transaction(account, client, tiktok):
    """No row lock (and on SQLite no database write lock) is held while TikTok answers."""
    from django.db import connection

    seen = []

    def answer(request):
        seen.append(connection.in_atomic_block)
        body = {
            "code": 0,
            "data": {"comments": [{"comment_id": wc.COMMENT_ID, "text": "hi", "unique_identifier": "u"}]},
        }
        return 200, {}, json.dumps(body)

    tiktok.add_callback(responses.GET, API + constants.PATH_COMMENT_LIST, callback=answer)
    assert wc.post(client, wc.body_of("comment_update_insert")).status_code == 200
    assert seen == [False]
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
