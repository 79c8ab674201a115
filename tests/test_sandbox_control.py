"""The sandbox's control surface (Python, HTTP, the human page), failure injection, its own process, and the
fixtures other tests build on."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from channels_tiktok import constants
from channels_tiktok.sandbox import SandboxControl, SandboxControlError
from tests.sandbox import call_api

ACCOUNT = "sbx-acct-mx-001"
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def token(sandbox):
    return sandbox.control.issue_token(account=ACCOUNT)["access_token"]


@pytest.fixture
def conversation_id(sandbox):
    return sandbox.control.user_writes(text="hola")["conversation_id"]


def send_body(conversation_id, text="hi"):
    return {
        "business_id": ACCOUNT,
        "recipient_type": "CONVERSATION",
        "recipient": conversation_id,
        "message_type": "TEXT",
        "text": {"body": text},
    }


def post_send(sandbox, token, conversation_id, **kwargs):
    return requests.post(
        sandbox.api_base_url + constants.PATH_MESSAGE_SEND,
        json=send_body(conversation_id),
        headers={"Access-Token": token},
        timeout=kwargs.pop("timeout", 5),
    )


def test_injected_system_error_before_the_call_sends_nothing(sandbox, token, conversation_id):
    sandbox.control.inject_failure(path=constants.PATH_MESSAGE_SEND, mode="code", code=50000)

    failed = post_send(sandbox, token, conversation_id)
    succeeded = post_send(sandbox, token, conversation_id)

    assert failed.status_code == 200
    assert failed.json()["code"] == constants.CODE_SYSTEM_ERROR
    assert succeeded.json()["code"] == 0
    assert len(sandbox.control.sent_messages()) == 1


def test_injected_failure_after_the_call_has_already_sent(sandbox, token, conversation_id):
    sandbox.control.inject_failure(path=constants.PATH_MESSAGE_SEND, mode="http_error", status=503, after=True)

    failed = post_send(sandbox, token, conversation_id)

    assert failed.status_code == 503
    assert failed.headers[constants.LOG_ID_HEADER]
    assert failed.headers["Content-Type"].startswith("text/plain")  # no envelope to parse
    assert len(sandbox.control.sent_messages()) == 1  # a blind retry would post twice


def test_injected_dropped_connection(sandbox, token, conversation_id):
    sandbox.control.inject_failure(path=constants.PATH_MESSAGE_SEND, mode="drop", count=2)

    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            post_send(sandbox, token, conversation_id)
    assert post_send(sandbox, token, conversation_id).json()["code"] == 0


def test_injected_delay_makes_the_caller_time_out(sandbox, token, conversation_id):
    sandbox.control.inject_failure(path=constants.PATH_MESSAGE_SEND, mode="delay", delay=0.6)

    with pytest.raises(requests.ReadTimeout):
        post_send(sandbox, token, conversation_id, timeout=0.2)

    time.sleep(0.6)
    assert len(sandbox.control.sent_messages()) == 1  # TikTok finished the send after the caller gave up


def test_unknown_failure_mode_is_refused(sandbox):
    with pytest.raises(SandboxControlError, match="mode"):
        sandbox.control.inject_failure(path="business/get/", mode="explode")


def test_control_over_http_matches_in_process(sandbox):
    http = SandboxControl(sandbox.url)

    written = http.user_writes(user="lucia.mx", text="por HTTP")
    state = sandbox.control.messages(user="sbx-user-lucia")

    assert state["conversation_id"] == written["conversation_id"]
    assert [m["body"] for m in state["messages"]] == [{"body": "por HTTP"}]
    with pytest.raises(SandboxControlError, match="Unknown user"):
        http.user_writes(user="nobody", text="x")
    with pytest.raises(SandboxControlError, match="Unknown action"):
        http._call("fly")


def test_operator_cannot_write_first_or_beyond_the_quota(sandbox):
    with pytest.raises(SandboxControlError, match="has not written"):
        sandbox.control.operator_writes(text="hi")
    sandbox.control.user_writes(text="hola")
    for _ in range(10):
        sandbox.control.operator_writes(text="hi")

    with pytest.raises(SandboxControlError) as refused:
        sandbox.control.operator_writes(text="one more")
    assert refused.value.code == constants.CODE_DM_RULES


def test_state_never_shows_tokens(sandbox, token):
    body = requests.get(sandbox.url + "/sandbox/state/", timeout=5).text

    assert token not in body
    state = json.loads(body)
    granted = next(a for a in state["accounts"] if a["business_id"] == ACCOUNT)["granted_scopes"]
    assert set(granted) == set(constants.ALL_SCOPES)


def test_reset_restores_the_seed(sandbox, token):
    sandbox.control.user_writes(text="hola")
    sandbox.control.configure(rate_limit_qps=1)

    sandbox.control.reset()

    state = sandbox.control.state()
    assert state["conversations"] == []
    assert state["deliveries"] == []
    assert sandbox.sandbox.config.rate_limit_qps == sandbox.sandbox.initial_config.rate_limit_qps
    assert call_api(sandbox, "POST", constants.PATH_TOKEN_INFO, json={"app_id": "x"})["code"] == 40001


def test_human_page_and_its_forms(sandbox):
    page = requests.get(sandbox.url + "/sandbox/", timeout=5)
    posted = requests.post(
        sandbox.url + "/sandbox/control/user_writes/",
        data={"account": ACCOUNT, "user": "sbx-user-pedro", "text": "desde el formulario"},
        allow_redirects=False,
        timeout=5,
    )
    after = requests.get(sandbox.url + posted.headers["Location"], timeout=5)

    assert page.status_code == 200
    for seeded in ("sbx-acct-mx-001", "sbx-user-hans", "@lucia.mx", "7300000000000000001"):
        assert seeded in page.text
    assert posted.status_code == 302
    assert "desde el formulario" in after.text
    assert "user_writes" in after.text


def test_advancing_the_clock_moves_webhook_timestamps(sandbox):
    sandbox.control.advance_clock(hours=2)

    content = sandbox.control.user_writes(text="later")["content"]

    assert content["timestamp"] / 1000 - time.time() == pytest.approx(7200, abs=5)


@pytest.mark.django_db
def test_sandbox_to_django_delivers_into_the_test_client(sandbox_to_django, client):
    sandbox_to_django.control.issue_token(account=ACCOUNT)

    result = sandbox_to_django.control.user_writes(text="hola")

    # Whatever the receiver answers, the signed request reached Django's /webhooks/tiktok/ in this thread.
    assert result["delivery"]["http_status"] is not None
    assert sandbox_to_django.sandbox.config.echo_mode == "manual"


def test_sandbox_settings_point_the_product_at_the_sandbox(sandbox_settings, settings):
    from channels_tiktok.tiktok.client import TikTokClient

    tokens = sandbox_settings.control.issue_token(account=ACCOUNT)
    info = TikTokClient(tokens["access_token"]).token_info()
    profile = TikTokClient(tokens["access_token"]).get_profile(business_id=ACCOUNT)

    assert sandbox_settings.api_base_url == settings.TIKTOK_API_BASE_URL
    assert info["creator_id"] == ACCOUNT
    assert profile["username"] == "taqueria_sandbox"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_sandbox_command_serves_its_own_process():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_sandbox", "--port", str(port), "--callback-url", "http://127.0.0.1:9/w/"],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                state = requests.get(f"http://127.0.0.1:{port}/sandbox/state/", timeout=1).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, process.stdout.read1().decode() if process.poll() else "no answer"
                time.sleep(0.1)
        assert state["subscriptions"] == {"DIRECT_MESSAGE": "http://127.0.0.1:9/w/", "COMMENT": "http://127.0.0.1:9/w/"}
        assert {a["business_id"] for a in state["accounts"]} >= {ACCOUNT}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sample_images_for_sends_by_url(sandbox):
    png = requests.get(sandbox.url + "/sandbox/samples/sample.png", timeout=5)
    too_big = requests.get(sandbox.url + "/sandbox/samples/too-big.png", timeout=5)
    gif = requests.get(sandbox.url + "/sandbox/samples/sample.gif", timeout=5)

    assert (png.headers["Content-Type"], png.content[:4]) == ("image/png", b"\x89PNG")
    assert len(too_big.content) == constants.MAX_IMAGE_BYTES + 1
    assert gif.content.startswith(b"GIF89a")


def test_state_survives_a_restart_through_the_state_file(sandbox, tmp_path):
    from channels_tiktok.sandbox import Sandbox

    tokens = sandbox.control.issue_token(account=ACCOUNT)
    sandbox.control.user_writes(text="before the restart")
    sandbox.control.advance_clock(seconds=30)
    path = str(tmp_path / "state.pickle")

    sandbox.sandbox.state.save(path)
    restarted = Sandbox(sandbox.sandbox.config)
    restarted.state.load(path)

    assert restarted.state.grant_for_access(tokens["access_token"]).business_id == ACCOUNT
    assert restarted.control.messages()["messages"][0]["body"] == {"body": "before the restart"}
    assert restarted.state.clock.offset == 30
    assert restarted.control.user_writes(text="after")["message_id"] == "7400000000000000002"


def test_curl_style_json_with_a_form_content_type_is_json(sandbox):
    answer = requests.post(
        sandbox.url + "/sandbox/control/user_writes/",
        data='{"user": "lucia.mx", "text": "curl -d"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )

    assert answer.status_code == 200
    assert answer.json()["content"]["text"] == {"body": "curl -d"}


@pytest.mark.django_db(transaction=True)
def test_sandbox_live_delivers_to_the_live_server_over_http(sandbox_live, live_server):
    sandbox_live.control.issue_token(account=ACCOUNT)

    result = sandbox_live.http_control.user_writes(text="hola")

    assert sandbox_live.control.state()["subscriptions"]["DIRECT_MESSAGE"].startswith(live_server.url)
    assert result["delivery"]["http_status"] is not None
