"""Where bot events go, set by the owner: the callback URL (public addresses only) and the signing secret, made
here, shown once, and what every push is then signed with."""

import hashlib
import hmac
import html
import re

import pytest
import responses
from django.urls import reverse

from clients import delivery, events
from clients.models import BotEvent, Project
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
HOOK = "https://bot.example.com/events"
SECRET = re.compile(r'id="new-callback-secret">(whsec_[A-Za-z0-9_-]{40,})<')


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def project(owner):
    project = ProjectFactory(name="Taqueria bot", callback_url="", callback_secret="")
    project.owners.add(owner)
    return project


def _set(client, project, url):
    return client.post(reverse("bot-callback", args=[project.pk]), {"callback_url": url})


def test_setting_the_callback_url_makes_a_secret_shown_once_and_pushes_are_signed_with_it(client, owner, project):
    client.force_login(owner)
    page = _set(client, project, HOOK)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    secret = SECRET.search(page.content.decode()).group(1)
    project.refresh_from_db()
    assert (project.callback_url, project.callback_secret) == (HOOK, secret)
    # Never again: the page shows that a secret exists, not the secret.
    again = client.get(reverse("api-keys"), {"project": project.pk}).content.decode()
    assert secret not in again
    assert "Pushes are signed with this project" in again
    with responses.RequestsMock() as bot:
        bot.post(HOOK)
        event = events.emit(
            project=project, event_type=BotEvent.Type.CLIENT_MESSAGE, dedupe_key="t:1", account={"id": 1}, text="hola"
        )
        delivery.deliver(event_id=event.pk)
        request = bot.calls[0].request
    parts = dict(part.split("=", 1) for part in request.headers["X-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["s"], expected)


def test_a_new_secret_replaces_the_old_one(client, owner, project):
    client.force_login(owner)
    first = SECRET.search(_set(client, project, HOOK).content.decode()).group(1)
    page = client.post(reverse("bot-callback-secret", args=[project.pk]))
    second = SECRET.search(page.content.decode()).group(1)
    assert second != first
    project.refresh_from_db()
    assert project.callback_secret == second


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2/hook",
        "http://[::127.0.0.2]/x",
        "http://[64:ff9b::7f00:2]/x",
        "http://10.0.0.5/",
        "ftp://x.io/",
    ],
)
def test_an_internal_or_odd_address_is_refused_on_the_page(client, owner, project, url):
    client.force_login(owner)
    page = _set(client, project, url)
    assert page.status_code == 400
    assert "errorlist" in page.content.decode()
    project.refresh_from_db()
    assert (project.callback_url, project.callback_secret) == ("", "")


def test_clearing_the_url_leaves_events_to_the_feed(client, owner, project):
    client.force_login(owner)
    _set(client, project, HOOK)
    response = _set(client, project, "")
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.callback_url == ""


def test_another_owners_project_is_404(client, project):
    client.force_login(UserFactory())
    assert _set(client, project, HOOK).status_code == 404
    assert client.post(reverse("bot-callback-secret", args=[project.pk])).status_code == 404


def test_staff_setting_a_url_in_the_admin_never_leaves_pushes_unsigned(admin_client, project):
    response = admin_client.post(
        reverse("admin:clients_project_change", args=[project.pk]),
        {"name": project.name, "callback_url": HOOK, "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 302
    project = Project.objects.get(pk=project.pk)
    assert project.callback_url == HOOK
    assert project.callback_secret.startswith("whsec_")
    page = admin_client.get(reverse("admin:clients_project_change", args=[project.pk]))
    assert project.callback_secret not in html.unescape(page.content.decode())
