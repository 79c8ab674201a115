"""The project's callback URL reaches public addresses only: refused when saved and again before each push (DNS may
change); staff see a short, escaped excerpt of what the bot answered."""

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients import delivery, netguard
from clients.models import BotEvent, Project
from tests.factories import BotEventFactory, DeliveryAttemptFactory, ProjectFactory

pytestmark = pytest.mark.django_db

INTERNAL = [
    "127.0.0.2",
    "10.0.0.5",
    "169.254.169.254",
    "::1",
    "fe80::1",
    "::127.0.0.2",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "64:ff9b::7f00:2",  # NAT64 (well-known prefix) of 127.0.0.2
    "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
    "64:ff9b:1::7f00:2",  # NAT64 local-use prefix
    "2002:7f00:2::",  # 6to4 of 127.0.0.2
    "224.0.0.1",
]
PUBLIC = ["8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_in_every_ipv6_disguise_are_not_public(address):
    assert not netguard.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_public(address):
    assert netguard.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://[::127.0.0.2]/hook",
        "http://[64:ff9b::7f00:2]:8000/hook",
        "http://127.0.0.2/hook",
        "http://10.0.0.5/hook?db=1",
        "http://localhost:8000/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
def test_an_internal_callback_url_is_refused_when_saved(url):
    project = Project(name="p", callback_url=url)
    with pytest.raises(ValidationError) as caught:
        project.full_clean()
    assert "callback_url" in caught.value.message_dict


@pytest.mark.parametrize("url", ["https://bot.example.com/hook", "http://127.0.0.1:9/hook", "http://8.8.8.8/hook", ""])
def test_public_unresolvable_and_allowed_callback_urls_are_accepted(url):
    Project(name="p", callback_url=url).full_clean()


def test_the_admin_refuses_an_internal_callback_url(admin_client):
    project = ProjectFactory(callback_url="")
    url = reverse("admin:clients_project_change", args=[project.pk])
    form = {
        "name": project.name,
        "callback_url": "http://[64:ff9b::7f00:2]/internal",
        "apikey_set-TOTAL_FORMS": "0",
        "apikey_set-INITIAL_FORMS": "0",
        "apikeys-TOTAL_FORMS": "0",
        "apikeys-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200  # the form again, with the error
    assert b"public addresses" in response.content
    project.refresh_from_db()
    assert project.callback_url == ""


@pytest.mark.parametrize("url", ["http://localhost:8000/internal", "http://[::127.0.0.2]/internal"])
def test_the_push_refuses_an_internal_target_even_if_it_was_stored(url, django_capture_on_commit_callbacks):
    project = ProjectFactory(callback_secret="s")
    Project.objects.filter(pk=project.pk).update(callback_url=url)  # stored before the guard, or DNS changed since
    event = BotEventFactory(project=project, status=BotEvent.DeliveryStatus.PENDING)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as bot:
        bot.post(url, status=200, body="db_password=hunter2")
        delivery.deliver(event_id=event.pk)
        assert len(bot.calls) == 0
    attempt = event.delivery_attempts.get()
    assert attempt.error.startswith("callback URL refused")
    assert attempt.response_body == ""
    event.refresh_from_db()
    assert event.status == BotEvent.DeliveryStatus.PENDING  # retried later: staff may fix the URL


def test_staff_see_a_short_escaped_excerpt_of_the_bots_answer(admin_client):
    event = BotEventFactory(status=BotEvent.DeliveryStatus.FAILED)
    answer = "<script>alert(1)</script>" + "x" * 500 + "db_password=hunter2"
    attempt = DeliveryAttemptFactory(event=event, response_status=500, error="HTTP 500", response_body=answer)
    for url in (
        reverse("admin:clients_botevent_change", args=[event.pk]),
        reverse("admin:clients_deliveryattempt_change", args=[attempt.pk]),
    ):
        page = admin_client.get(url).content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert b"<script>alert(1)" not in page
        assert b"db_password" not in page


class DrippingBot:
    """A bot on loopback that answers a push one byte every 0.2 s (`headers=True`: its headers too)."""

    def __init__(self, *, headers: bool):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                drip = head + b"X-Slow: " + b"a" * 200 if headers else b"ok" * 100
                if not headers:
                    self.wfile.write(head + b"\r\n")
                for byte in drip:
                    try:
                        self.wfile.write(bytes([byte]))
                    except OSError:
                        return
                    time.sleep(0.2)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/events"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_a_bot_dripping_its_answer_holds_the_push_no_longer_than_its_total_deadline(monkeypatch, headers):
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 1)
    bot = DrippingBot(headers=headers)
    try:
        project = ProjectFactory(callback_url=bot.url, callback_secret="s")
        event = BotEventFactory(project=project, status=BotEvent.DeliveryStatus.PENDING)
        started = time.monotonic()
        delivery.deliver(event_id=event.pk)
        elapsed = time.monotonic() - started
    finally:
        bot.close()
    assert elapsed < 2.5, f"the push took {elapsed:.1f} s"
    attempt = event.delivery_attempts.get()
    assert attempt.error
    event.refresh_from_db()
    assert event.status == BotEvent.DeliveryStatus.PENDING
