"""The sandbox's messaging endpoints over real HTTP: send (validation, window and quota), media upload and
download, capabilities, conversation and content lists, and the app rate limit."""

import json

import pytest
import requests

from channels_tiktok import constants
from tests.sandbox import call_api

ACCOUNT = "sbx-acct-mx-001"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64


@pytest.fixture
def token(sandbox):
    return sandbox.control.issue_token(account=ACCOUNT)["access_token"]


@pytest.fixture
def conversation_id(sandbox):
    return sandbox.control.user_writes(user="sbx-user-lucia", text="Hola")["conversation_id"]


def send(sandbox, token, conversation_id, message_type="TEXT", **body):
    body = body or {"text": {"body": "Hi"}}
    payload = {
        "business_id": ACCOUNT,
        "recipient_type": "CONVERSATION",
        "recipient": conversation_id,
        "message_type": message_type,
        **body,
    }
    return call_api(sandbox, "POST", constants.PATH_MESSAGE_SEND, token=token, json=payload)


def card(card_type="QA_BUTTON_CARD", title="Pick one", buttons=None):
    buttons = buttons if buttons is not None else [{"type": "REPLY", "title": "Yes", "id": "btn-yes"}]
    return {"template": {"type": card_type, "title": title, "buttons": buttons}}


def upload(sandbox, token, content, filename="a.png", business_id=ACCOUNT):
    return call_api(
        sandbox,
        "POST",
        constants.PATH_MEDIA_UPLOAD,
        token=token,
        data={"business_id": business_id, "media_type": "IMAGE"},
        files={"file": (filename, content, "application/octet-stream")},
    )


def test_send_text_returns_a_message_id_and_tiktok_records_it(sandbox, token, conversation_id):
    envelope = send(sandbox, token, conversation_id, text={"body": "¿Qué tal?"})

    message_id = envelope["data"]["message"]["message_id"]
    assert envelope["code"] == 0
    assert isinstance(message_id, str)
    assert len(message_id) == 19
    sent = sandbox.control.sent_messages(account=ACCOUNT)
    assert [(m["message_id"], m["type"], m["body"], m["source"]) for m in sent] == [
        (message_id, "text", {"body": "¿Qué tal?"}, "API")
    ]


def test_conversation_id_with_plus_works_when_percent_encoded(sandbox, token, conversation_id):
    assert "+" in conversation_id

    envelope = call_api(
        sandbox,
        "GET",
        constants.PATH_CONTENT_LIST,
        token=token,
        params={"business_id": ACCOUNT, "conversation_id": conversation_id},
    )
    raw = requests.get(
        sandbox.api_base_url
        + constants.PATH_CONTENT_LIST
        + f"?business_id={ACCOUNT}&conversation_id={conversation_id}",
        headers={"Access-Token": token},
        timeout=5,
    ).json()

    assert envelope["code"] == 0
    assert raw["code"] == constants.CODE_NOT_FOUND  # an unencoded "+" arrives as a space


def test_eleventh_message_in_the_window_is_refused_with_40064(sandbox, token, conversation_id):
    codes = [send(sandbox, token, conversation_id)["code"] for _ in range(10)]

    refused = send(sandbox, token, conversation_id)

    assert codes == [0] * 10
    assert refused["code"] == constants.CODE_DM_RULES
    assert "10 messages" in refused["message"]
    assert len(sandbox.control.sent_messages(account=ACCOUNT)) == 10


def test_a_new_user_message_opens_a_fresh_window(sandbox, token, conversation_id):
    for _ in range(10):
        send(sandbox, token, conversation_id)
    sandbox.control.user_writes(user="sbx-user-lucia", text="Otra pregunta")

    assert [send(sandbox, token, conversation_id)["code"] for _ in range(10)] == [0] * 10
    assert send(sandbox, token, conversation_id)["code"] == constants.CODE_DM_RULES


def test_messages_from_the_tiktok_app_count_against_the_window(sandbox, token, conversation_id):
    for _ in range(9):
        sandbox.control.operator_writes(user="sbx-user-lucia", text="from the app")

    assert send(sandbox, token, conversation_id)["code"] == 0
    assert send(sandbox, token, conversation_id)["code"] == constants.CODE_DM_RULES


def test_window_closes_after_48_hours(sandbox, conversation_id):
    sandbox.sandbox.configure(access_token_ttl=7 * 86_400)
    token = sandbox.control.issue_token(account=ACCOUNT)["access_token"]
    sandbox.control.advance_clock(hours=47.9)
    assert send(sandbox, token, conversation_id)["code"] == 0

    sandbox.control.advance_clock(hours=0.2)
    refused = send(sandbox, token, conversation_id)

    assert refused["code"] == constants.CODE_DM_RULES
    assert "48-hour" in refused["message"]


def test_unknown_conversation_is_not_found(sandbox, token):
    assert send(sandbox, token, "0:1+unknown")["code"] == constants.CODE_NOT_FOUND


@pytest.mark.parametrize(
    ("message_type", "body", "fragment"),
    [
        ("TEXT", {"text": {"body": "x" * 6001}}, "6000"),
        ("TEXT", {"text": {"body": ""}}, "text.body"),
        ("TEXT", {"text": {"body": "hi"}, "image": {"media_id": "m"}}, "cannot carry image"),
        ("VIDEO", {"video": {}}, "message_type"),
        ("TEMPLATE", card(title="t" * 41), "title is longer than 40"),
        ("TEMPLATE", card(buttons=[]), "1 to 3"),
        ("TEMPLATE", card(buttons=[{"type": "REPLY", "title": "b", "id": str(i)} for i in range(4)]), "1 to 3"),
        ("TEMPLATE", card(buttons=[{"type": "REPLY", "title": "b" * 21, "id": "x"}]), "longer than 20"),
        ("TEMPLATE", card("QA_LINK_CARD", buttons=[{"type": "REPLY", "title": "b" * 41, "id": "x"}]), "than 40"),
        ("TEMPLATE", card(buttons=[{"type": "REPLY", "title": "b", "id": "i" * 41}]), "id is longer than 40"),
        ("TEMPLATE", card(buttons=[{"type": "URL", "title": "b", "id": "x"}]), "REPLY"),
        ("TEMPLATE", card("CAROUSEL"), "template.type"),
        ("IMAGE", {"image": {"media_id": "sbxmedia-nope"}}, "does not exist"),
        ("SENDER_ACTION", {"sender_action": "DANCING"}, "sender_action"),
    ],
)
def test_send_body_is_validated_strictly(sandbox, token, conversation_id, message_type, body, fragment):
    refused = send(sandbox, token, conversation_id, message_type, **body)

    assert refused["code"] == constants.CODE_INVALID_PARAM_2
    assert fragment in refused["message"]
    assert sandbox.control.sent_messages(account=ACCOUNT) == []


def test_link_card_allows_40_character_buttons(sandbox, token, conversation_id):
    body = card("QA_LINK_CARD", buttons=[{"type": "REPLY", "title": "b" * 40, "id": "x"}])

    assert send(sandbox, token, conversation_id, "TEMPLATE", **body)["code"] == 0


def test_recipient_type_must_be_conversation(sandbox, token, conversation_id):
    payload = {"business_id": ACCOUNT, "recipient_type": "USER", "recipient": conversation_id, "message_type": "TEXT"}

    refused = call_api(
        sandbox, "POST", constants.PATH_MESSAGE_SEND, token=token, json=payload | {"text": {"body": "x"}}
    )

    assert refused["code"] == constants.CODE_INVALID_PARAM_2


def test_sender_action_does_not_use_the_quota(sandbox, token, conversation_id):
    for _ in range(10):
        send(sandbox, token, conversation_id)

    typing = send(sandbox, token, conversation_id, "SENDER_ACTION", sender_action="TYPING")

    assert typing["code"] == 0
    assert len(sandbox.control.sent_messages(account=ACCOUNT)) == 10


def test_send_needs_the_send_scope(sandbox, conversation_id):
    token = sandbox.control.issue_token(account=ACCOUNT, scopes=[constants.SCOPE_MESSAGE_READ])["access_token"]

    refused = send(sandbox, token, conversation_id)

    assert refused["code"] == constants.CODE_NO_PERMISSION
    assert constants.SCOPE_MESSAGE_SEND in refused["message"]


def test_personal_account_cannot_use_direct_messages(sandbox):
    token = sandbox.control.issue_token(account="sbx-acct-co-003")["access_token"]
    conversation_id = sandbox.control.user_writes(account="sbx-acct-co-003", text="hi")["conversation_id"]

    payload = {"business_id": "sbx-acct-co-003", "recipient_type": "CONVERSATION", "recipient": conversation_id}
    refused = call_api(
        sandbox,
        "POST",
        constants.PATH_MESSAGE_SEND,
        token=token,
        json=payload | {"message_type": "TEXT", "text": {"body": "x"}},
    )

    assert refused["code"] == constants.CODE_NO_PERMISSION


def test_upload_and_send_an_image(sandbox, token, conversation_id):
    media_id = upload(sandbox, token, PNG)["data"]["media_id"]
    jpeg_id = upload(sandbox, token, JPEG, filename="photo.jpg")["data"]["media_id"]

    sent = send(sandbox, token, conversation_id, "IMAGE", image={"media_id": media_id})

    assert sent["code"] == 0
    assert jpeg_id != media_id
    assert sandbox.control.sent_messages(account=ACCOUNT)[0]["body"] == {"media_id": media_id}


def test_upload_size_limit_is_3_mb(sandbox, token):
    exactly = PNG + b"\x00" * (constants.MAX_IMAGE_BYTES - len(PNG))

    assert upload(sandbox, token, exactly)["code"] == 0
    too_big = upload(sandbox, token, exactly + b"\x00")
    assert too_big["code"] == constants.CODE_FILE_TOO_LARGE


def test_upload_checks_the_format_by_content(sandbox, token):
    assert upload(sandbox, token, GIF, filename="fake.png")["code"] == constants.CODE_UNSUPPORTED_FILE_TYPE


def test_upload_needs_multipart_and_media_type(sandbox, token):
    as_json = call_api(
        sandbox, "POST", constants.PATH_MEDIA_UPLOAD, token=token, json={"business_id": ACCOUNT, "media_type": "IMAGE"}
    )
    wrong_type = call_api(
        sandbox,
        "POST",
        constants.PATH_MEDIA_UPLOAD,
        token=token,
        data={"business_id": ACCOUNT, "media_type": "VIDEO"},
        files={"file": ("a.png", PNG)},
    )

    assert as_json["code"] == constants.CODE_INVALID_PARAM_2
    assert wrong_type["code"] == constants.CODE_INVALID_PARAM_2


def test_image_of_another_account_is_refused(sandbox, token, conversation_id):
    other = sandbox.control.issue_token(account="sbx-acct-br-002")["access_token"]
    media_id = upload(sandbox, other, PNG, business_id="sbx-acct-br-002")["data"]["media_id"]

    assert send(sandbox, token, conversation_id, "IMAGE", image={"media_id": media_id})["code"] == 40002


def capability(sandbox, token, conversation_id):
    return call_api(
        sandbox,
        "GET",
        constants.PATH_CAPABILITIES,
        token=token,
        params={
            "business_id": ACCOUNT,
            "capability_types": json.dumps(["IMAGE_SEND"]),
            "conversation_id": conversation_id,
            "conversation_type": "SINGLE",
        },
    )


def test_image_send_capability_is_reported_and_enforced(sandbox, token, conversation_id):
    pedro = sandbox.control.user_writes(user="sbx-user-pedro", text="hola")["conversation_id"]
    media_id = upload(sandbox, token, PNG)["data"]["media_id"]

    lucia_capability = capability(sandbox, token, conversation_id)["data"]
    pedro_capability = capability(sandbox, token, pedro)["data"]
    refused = send(sandbox, token, pedro, "IMAGE", image={"media_id": media_id})

    assert lucia_capability == {"capability_infos": [{"capability_type": "IMAGE_SEND", "capability_result": True}]}
    assert pedro_capability["capability_infos"][0]["capability_result"] is False
    assert refused["code"] == constants.CODE_DM_RULES
    assert "IMAGE_SEND" in refused["message"]


def test_capability_can_change(sandbox, token, conversation_id):
    sandbox.control.set_capability(user="sbx-user-lucia", image_send=False)

    assert capability(sandbox, token, conversation_id)["data"]["capability_infos"][0]["capability_result"] is False


def test_capabilities_need_the_manage_scope(sandbox, conversation_id):
    token = sandbox.control.issue_token(account=ACCOUNT, scopes=list(constants.MESSAGING_SCOPES[:2]))["access_token"]

    assert capability(sandbox, token, conversation_id)["code"] == constants.CODE_NO_PERMISSION


def test_inbound_image_can_be_downloaded_with_the_access_token(sandbox, token):
    sent = sandbox.control.user_sends_image(user="sbx-user-lucia")
    body = {
        "business_id": ACCOUNT,
        "conversation_id": sent["conversation_id"],
        "message_id": sent["message_id"],
        "media_id": sent["media_id"],
        "media_type": "IMAGE",
    }

    url = call_api(sandbox, "POST", constants.PATH_MEDIA_DOWNLOAD, token=token, json=body)["data"]["download_url"]
    with_token = requests.get(url, headers={"x-user": token}, timeout=5)
    without = requests.get(url, timeout=5)

    assert sent["content"]["image"] == {"media_id": sent["media_id"]}
    assert with_token.status_code == 200
    assert with_token.headers["Content-Type"] == "image/png"
    assert with_token.content.startswith(b"\x89PNG")
    assert without.status_code == 403


def test_conversation_list_pages_newest_first_without_text(sandbox, token):
    for user in ("sbx-user-lucia", "sbx-user-pedro", "sbx-user-hans"):
        sandbox.control.user_writes(user=user, text="hola")
    params = {"business_id": ACCOUNT, "conversation_type": "SINGLE", "limit": 2}

    first = call_api(sandbox, "GET", constants.PATH_CONVERSATION_LIST, token=token, params=params)["data"]
    second = call_api(
        sandbox, "GET", constants.PATH_CONVERSATION_LIST, token=token, params=params | {"cursor": first["cursor"]}
    )["data"]

    assert first["has_more"] is True
    assert second["has_more"] is False
    conversations = first["conversations"] + second["conversations"]
    assert len({c["conversation_id"] for c in conversations}) == 3
    assert [c["update_time"] for c in conversations] == sorted((c["update_time"] for c in conversations), reverse=True)
    assert all(set(c) == {"conversation_id", "update_time"} for c in conversations)


def test_content_list_gives_the_20_newest_and_the_follower_flag(sandbox, token, conversation_id):
    for index in range(12):
        sandbox.control.user_writes(user="sbx-user-lucia", text=f"message {index}")
        send(sandbox, token, conversation_id, text={"body": f"answer {index}"})

    data = call_api(
        sandbox,
        "GET",
        constants.PATH_CONTENT_LIST,
        token=token,
        params={"business_id": ACCOUNT, "conversation_id": conversation_id},
    )["data"]

    assert len(data["messages"]) == 20
    assert data["messages"][0]["text"] == {"body": "answer 11"}
    assert data["messages"][0]["message_tag"] == {"source": "API"}
    # TikTok's REST lists: `message_type` and roles in upper case (webhooks send them in lower case).
    assert data["messages"][0]["message_type"] == "TEXT"
    assert "type" not in data["messages"][0]
    assert data["messages"][1]["from_user"] == {"id": "sbx-user-lucia", "role": "PERSONAL_ACCOUNT"}
    person = next(p for p in data["participants"] if p["role"] == "PERSONAL_ACCOUNT")
    assert person["id"] == "sbx-user-lucia"
    assert person["is_follower"] is True
    assert person["profile_image"].startswith("https://")


def test_errors_carry_data_null_as_tiktok_sends_them(sandbox, token):
    answer = call_api(
        sandbox,
        "GET",
        constants.PATH_CONTENT_LIST,
        token=token,
        params={"business_id": ACCOUNT, "conversation_id": "no-such-conversation"},
    )
    assert answer["code"] != 0
    assert "data" in answer
    assert answer["data"] is None


def test_app_rate_limit_answers_40100(sandbox, token):
    sandbox.sandbox.configure(rate_limit_qps=10)
    params = {"business_id": ACCOUNT, "fields": '["display_name"]'}

    codes = [
        call_api(sandbox, "GET", constants.PATH_BUSINESS_GET, token=token, params=params)["code"] for _ in range(11)
    ]

    assert codes[:10] == [0] * 10
    assert codes[10] == constants.CODE_RATE_LIMITED


def test_rate_limit_window_slides(sandbox, token):
    import time

    sandbox.sandbox.configure(rate_limit_qps=2)
    params = {"business_id": ACCOUNT, "fields": '["display_name"]'}
    for _ in range(2):
        call_api(sandbox, "GET", constants.PATH_BUSINESS_GET, token=token, params=params)
    assert call_api(sandbox, "GET", constants.PATH_BUSINESS_GET, token=token, params=params)["code"] == 40100

    time.sleep(1.05)

    assert call_api(sandbox, "GET", constants.PATH_BUSINESS_GET, token=token, params=params)["code"] == 0


def test_rate_limit_counts_calls_when_they_arrived_even_if_admitted_out_of_order(sandbox):
    """The sandbox counts a call when its request line was read; a call that waited for a thread is admitted
    later but counted at its arrival, and every rolling second holding it is checked."""
    import time

    core = sandbox.sandbox
    core.configure(rate_limit_qps=3)
    start = time.monotonic() - 0.5
    assert [core._admit(start + offset) for offset in (0.0, 0.1, 0.2)] == [True, True, True]
    # Arrived before the third but admitted after it: (start - 0.8, start + 0.2] would hold four calls.
    assert core._admit(start + 0.15) is False
    # Arrived long before any of them: alone in every second that holds it.
    assert core._admit(start - 1.2) is True
