"""`make run PORT=... SANDBOX_PORT=...` (scripts/run_dev.py) with real processes: the URLs follow the ports, a
taken port is one line and a non-zero exit, and the demo works end to end on other ports than 8000/8001."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from django.conf import settings

from channels_tiktok import constants
from channels_tiktok.sandbox import SandboxControl

ROOT = Path(settings.BASE_DIR)
FULL_KEY = re.compile(r"\b([0-9a-f]{8}\.[A-Za-z0-9_-]{40,})\b")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def taken_port():
    """A port something else listens on (another `make run`, say)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `make run` on a fresh SQLite file, in-process tasks, nothing else set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TIKTOK_", "DJANGO_", "DEV_SERVER", "DATABASE_", "REDIS_", "CELERY_"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return env


def _run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _dev_setting(env: dict[str, str], name: str) -> str:
    program = f"from django.conf import settings; print(settings.{name})"
    return _run([sys.executable, "-c", program], env).stdout.strip()


# ------------------------------------------------------------------------------------------- settings
def test_dev_settings_follow_the_port_make_run_was_given(tmp_path):
    env = _env(tmp_path, DEV_SERVER_URL="http://127.0.0.1:8100", TIKTOK_SANDBOX_URL="http://127.0.0.1:8101")

    assert _dev_setting(env, "TIKTOK_REDIRECT_URI") == "http://127.0.0.1:8100/tiktok/oauth/callback/"
    assert _dev_setting(env, "TIKTOK_WEBHOOK_CALLBACK_URL") == "http://127.0.0.1:8100/webhooks/tiktok/"
    assert _dev_setting(env, "TIKTOK_AUTHORIZE_URL") == "http://127.0.0.1:8101/v2/auth/authorize/"
    assert _dev_setting(env, "PUBLIC_BASE_URL") == "http://127.0.0.1:8100"


def test_explicit_urls_win_over_the_derived_ones(tmp_path):
    env = _env(
        tmp_path,
        DEV_SERVER_URL="http://127.0.0.1:8100",
        TIKTOK_REDIRECT_URI="https://bots.example.com/tiktok/oauth/callback/",
        TIKTOK_WEBHOOK_CALLBACK_URL="https://bots.example.com/webhooks/tiktok/",
    )

    assert _dev_setting(env, "TIKTOK_REDIRECT_URI") == "https://bots.example.com/tiktok/oauth/callback/"
    assert _dev_setting(env, "TIKTOK_WEBHOOK_CALLBACK_URL") == "https://bots.example.com/webhooks/tiktok/"


# ------------------------------------------------------------------------------------------ taken ports
def test_run_sandbox_on_a_taken_port_says_so_in_one_line(tmp_path, taken_port):
    result = _run([sys.executable, "manage.py", "run_sandbox", "--port", str(taken_port)], _env(tmp_path))

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"Port {taken_port} on 127.0.0.1 is already in use" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("taken", ["PORT", "SANDBOX_PORT"])
def test_make_run_on_a_taken_port_says_so_and_starts_nothing(tmp_path, taken_port, taken):
    ports = {"PORT": _free_port(), "SANDBOX_PORT": _free_port()} | {taken: taken_port}
    command = [sys.executable, "-m", "scripts.run_dev", "--port", str(ports["PORT"])]
    command += ["--sandbox-port", str(ports["SANDBOX_PORT"]), "--state-file", ""]

    result = _run(command, _env(tmp_path), timeout=60)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"make run: port {taken_port} on 127.0.0.1 ({taken}) is already in use (another `make run`?): "
        "stop it or choose other ports, e.g. make run PORT=8010 SANDBOX_PORT=8011."
    ]
    assert result.stdout == ""  # nothing migrated, no key printed, no sandbox, no runserver
    assert not (tmp_path / "db.sqlite3").exists()


# ------------------------------------------------------------------------------------------- the demo
def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make run ended ({process.returncode}):\n{log.read_text()}")
        try:
            requests.get(url, timeout=2, allow_redirects=False)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer:\n{log.read_text()}")


def _csrf_post(session: requests.Session, url: str, data: dict, **kwargs) -> requests.Response:
    page = session.get(url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(url, data={**data, "csrfmiddlewaretoken": token}, timeout=30, **kwargs)


@pytest.fixture
def make_run(tmp_path):
    """`make run` on two free ports other than 8000/8001, as its own process group; stopped afterwards."""
    port, sandbox_port = _free_port(), _free_port()
    log = tmp_path / "run.log"
    command = [sys.executable, "-m", "scripts.run_dev", "--port", str(port), "--sandbox-port", str(sandbox_port)]
    command += ["--state-file", str(tmp_path / "sandbox-state.pickle")]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=_env(tmp_path), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base, sandbox_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}"
        _wait_for(f"{sandbox_url}/sandbox/state/", process, log)
        _wait_for(f"{base}/healthz", process, log)
        yield base, sandbox_url, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Stopping saved the sandbox's world (the SIGTERM reached it as Ctrl-C would).
    assert (tmp_path / "sandbox-state.pickle").exists()


def _events(base: str, headers: dict, *, count: int, after: str | None = None) -> tuple[list[dict], str | None]:
    """The pull feed's client events after the cursor `after`, once there are `count` of them (20 s at the most),
    and the cursor to read on from."""
    deadline = time.monotonic() + 20
    events: list[dict] = []
    cursor = after
    while len(events) < count and time.monotonic() < deadline:
        page = requests.get(
            f"{base}/api/v1/events/", headers=headers, params={"after": cursor} if cursor else {}, timeout=10
        ).json()
        events += [event for event in page["results"] if event["type"].startswith("client.")]
        cursor = page["next_cursor"]
        if len(events) < count:
            time.sleep(0.2)
    return events, cursor


def _act_as_user(sandbox_url: str, action: str, **fields: str) -> None:
    """Post one of the sandbox page's "Act as the user" forms, as the browser does."""
    form = {"account": "sbx-acct-mx-001", "user": "sbx-user-lucia", **fields}
    answer = requests.post(f"{sandbox_url}/sandbox/control/{action}/", data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    assert "delivered" in unquote(answer.headers["Location"]), answer.headers["Location"]


def test_the_demo_on_other_ports(make_run):
    base, sandbox_url, log = make_run
    api_key = FULL_KEY.search(log.read_text()).group(1)
    sandbox = SandboxControl(sandbox_url)
    # The sandbox delivers webhooks to this product, not to port 8000.
    assert set(sandbox.state()["subscriptions"].values()) == {f"{base}/webhooks/tiktok/"}

    owner = requests.Session()
    # The front door leads to the channels page, after the login.
    assert owner.get(f"{base}/", timeout=10).url == f"{base}/login/?next=/channels/"
    logged_in = _csrf_post(owner, f"{base}/login/?next=/channels/", {"username": "admin", "password": "admin"})
    assert logged_in.url.startswith(f"{base}/channels/")
    project_id = re.search(r'name="project" value="(\d+)"', logged_in.text).group(1)

    # Connect: TikTok's consent page sends the browser back to this port.
    page = owner.get(f"{base}/channels/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    started = owner.post(
        f"{base}/tiktok/connect/",
        data={"project": project_id, "country": "MX", "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )
    consent_url = started.headers["Location"]
    assert consent_url.startswith(f"{sandbox_url}/v2/auth/authorize/")
    assert parse_qs(urlsplit(consent_url).query)["redirect_uri"] == [f"{base}/tiktok/oauth/callback/"]
    consented = sandbox.consent(consent_url, account="sbx-acct-mx-001")
    assert consented["location"].startswith(f"{base}/tiktok/oauth/callback/?")
    back = owner.get(consented["location"], timeout=30)
    assert back.url.startswith(f"{base}/channels/")
    assert "@taqueria_sandbox" in back.text
    assert set(sandbox.state()["subscriptions"].values()) == {f"{base}/webhooks/tiktok/"}

    # A user writes: the bot event is in the feed.
    wrote = sandbox.user_writes(user="lucia.mx", text="Hola")
    assert wrote["delivery"]["http_status"] == 200
    headers = {"Authorization": f"Api-Key {api_key}"}
    # Processed right after the webhook's answer, off the request, as in production: the event follows shortly.
    events, cursor = _events(base, headers, count=1)
    assert [(event["type"], event["text"]) for event in events] == [("client.message", "Hola")]

    # The bot answers: the reply is in the sandbox's conversation.
    client_id = events[0]["client"]["id"]
    sent = requests.post(
        f"{base}/api/v1/clients/{client_id}/messages/", json={"text": "¡Hola, Lucía!"}, headers=headers, timeout=30
    )
    assert sent.status_code == 201, sent.text
    assert [m["body"] for m in sandbox.sent_messages(user="lucia.mx")] == [{"body": "¡Hola, Lucía!"}]

    # The sandbox page's "Act as the user" forms: each reaches the bot as a typed event.
    _act_as_user(sandbox_url, "user_sends", type="sticker")
    _act_as_user(sandbox_url, "user_sends", type="video")
    _act_as_user(sandbox_url, "user_sends", type="emoji")
    _act_as_user(sandbox_url, "user_opens_from_referral", source="ad", ad_name="Tacos 2x1")
    _act_as_user(sandbox_url, "user_comments_high_intent", text="¿Cuánto cuesta?")
    typed, _cursor = _events(base, headers, count=5, after=cursor)
    kinds = [(event["type"], event["data"].get("kind", "")) for event in typed]
    # The conversation's events in the order the user acted (the video's download URL read from TikTok first does
    # not let the emoji overtake it); the comment is not part of the conversation.
    assert [kind for kind in kinds if kind[0] != "client.high_intent_comment"] == [
        ("client.message", "sticker"),
        ("client.message", "video"),
        ("client.message", "emoji"),
        ("client.referral", ""),
    ], typed
    assert ("client.high_intent_comment", "") in kinds
    by_type = {event["data"].get("kind") or event["type"]: event for event in typed}
    assert by_type["client.referral"]["data"]["ad_name"] == "Tacos 2x1"
    assert by_type["client.high_intent_comment"]["text"] == "¿Cuánto cuesta?"
    # The video plays from our link, on this port, after TikTok's download URL has expired.
    video = by_type["video"]["data"]["video"]
    assert video["link"].startswith(f"{base}/media/tiktok/"), video
    sandbox.expire_media_urls()
    played = requests.get(video["link"], timeout=30)
    assert played.status_code == 200, played.text
    assert played.headers["Content-Type"] == "video/mp4"
    assert played.content[4:8] == b"ftyp"

    # TikTok's comment list 3 s slow: the webhook is still answered at once (journaled, processed right after).
    sandbox.inject_failure(path=constants.PATH_COMMENT_LIST, mode="delay", delay=3.0)
    commented = sandbox.user_comments(user="pedro.co", text="¿Precio?")
    assert commented["delivery"]["http_status"] == 200
    assert commented["delivery"]["duration_ms"] < 200, commented["delivery"]
    sandbox.clear_failures()
