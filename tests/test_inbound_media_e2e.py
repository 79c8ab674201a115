"""Inbound images and videos kept in our storage, end to end through the sandbox: the bot event carries our
signed link at once; the copy is made after commit with a fresh download URL fetched with `x-user`; the link
serves the file after the sandbox expired TikTok's URL; a copy that keeps failing is retried, then reported as
`message.status` `media_failed`; a forged link is 404; staff see a thumbnail."""

import html

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels_tiktok.sandbox.control.common import TINY_MP4, TINY_PNG
from clients.models import BotEvent, Message
from tests.factories import ProjectFactory, UserFactory
from tests.sandbox import connect_account

pytestmark = pytest.mark.django_db

ACCOUNT = "sbx-acct-mx-001"


@pytest.fixture
def connected(sandbox_to_django, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.TIKTOK_MEDIA_RETRY_BACKOFF_SECONDS = 0
    project = ProjectFactory(callback_url="")
    account = connect_account(sandbox_to_django, project=project, account=ACCOUNT)
    return sandbox_to_django, account


def _path(link: str) -> str:
    return link.removeprefix("http://testserver")


def test_a_video_is_copied_and_plays_from_our_link_after_tiktoks_expired(
    connected, django_capture_on_commit_callbacks, client
):
    sandbox, _account = connected
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_sends(type="video")
    assert len(queries) <= 28 + 10  # the event (as for every type, tests/test_inbound_types_e2e.py) and its copy
    video = BotEvent.objects.get().body["data"]["video"]
    assert video["link"].startswith("http://testserver/media/tiktok/")
    message = Message.objects.get()
    stored = message.payload["video"]
    assert (message.payload["media_status"], stored["content_type"], stored["size"]) == (
        "stored",
        "video/mp4",
        len(TINY_MP4),
    )
    assert default_storage.open(stored["stored"]).read() == TINY_MP4

    sandbox.control.expire_media_urls()
    import requests

    from channels_tiktok import constants

    expired = requests.get(
        video["url"], headers={constants.MEDIA_DOWNLOAD_USER_HEADER: _account.access_token}, timeout=5
    )
    assert expired.status_code == 403  # TikTok's URL no longer works
    served = client.get(_path(video["link"]))
    assert (served.status_code, served["Content-Type"]) == (200, "video/mp4")
    assert b"".join(served.streaming_content) == TINY_MP4


def test_the_link_fetches_on_demand_when_no_copy_exists_yet(
    connected, django_capture_on_commit_callbacks, client, settings
):
    sandbox, _account = connected
    settings.TIKTOK_MEDIA_RETRIES = 0
    settings.TIKTOK_MEDIA_MAX_BYTES = 10  # the background copy fails...
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_sends_image()
    image = BotEvent.objects.get(type="client.message").body["data"]["image"]
    assert "stored" not in Message.objects.get().payload["image"]
    settings.TIKTOK_MEDIA_MAX_BYTES = 1024  # ...the link still works later, with a fresh URL from TikTok
    sandbox.control.expire_media_urls()
    served = client.get(_path(image["link"]))
    assert (served.status_code, served["Content-Type"]) == (200, "image/png")
    assert b"".join(served.streaming_content) == TINY_PNG
    assert Message.objects.get().payload["image"]["stored"]


def test_a_forged_or_unavailable_link(connected, django_capture_on_commit_callbacks, client, settings):
    sandbox, _account = connected
    settings.TIKTOK_MEDIA_RETRIES = 0
    settings.TIKTOK_MEDIA_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_sends_image()
    link = _path(BotEvent.objects.get(type="client.message").body["data"]["image"]["link"])
    assert client.get(link.replace("/tiktok/", "/tiktok/x")).status_code == 404
    unavailable = client.get(link)
    assert (unavailable.status_code, unavailable.json()["code"]) == (502, "media_unavailable")


def test_a_copy_that_keeps_failing_is_retried_then_reported(connected, django_capture_on_commit_callbacks, settings):
    sandbox, _account = connected
    settings.TIKTOK_MEDIA_MAX_BYTES = 10  # every attempt finds the file too large
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_sends_image()
    message = Message.objects.get()
    assert message.payload["media_status"] == "failed"
    assert "larger than 10 bytes" in message.payload["media_error"]
    status = BotEvent.objects.get(type="message.status")
    assert (status.body["data"]["status"], status.body["data"]["message_id"]) == ("media_failed", message.external_id)


def test_staff_see_a_thumbnail_in_the_message_log(connected, django_capture_on_commit_callbacks, client):
    sandbox, _account = connected
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.control.user_sends_image()
    message = Message.objects.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = html.unescape(client.get(reverse("admin:clients_message_change", args=[message.pk])).content.decode())
    assert f'<img src="{message.payload["image"]["link"]}"' in page
