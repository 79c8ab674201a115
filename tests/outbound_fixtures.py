"""Fixtures for the bot builder's API tests: a project with an API key, a connected account, an open
conversation, and TikTok's API mocked at the HTTP boundary with `responses`."""

import datetime as dt
import json

import pytest
import responses
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from channels_tiktok import constants
from channels_tiktok.tiktok import ratelimit
from clients.api_keys import create_api_key
from tests.factories import ConversationFactory, ProjectFactory, TikTokAccountFactory


def tiktok_url(path: str) -> str:
    return settings.TIKTOK_API_BASE_URL.rstrip("/") + "/" + path


def envelope(data=None, *, code=0, message="OK"):
    return {"code": code, "message": message, "request_id": "req-1", "data": data or {}}


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def api(project):
    _key, raw = create_api_key(project=project, name="bot")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def account(project):
    return TikTokAccountFactory(channel__project=project, business_id="biz-1")


@pytest.fixture
def conversation(account):
    return ConversationFactory(
        account=account,
        conversation_id="0:1:abc+def",
        last_inbound_at=timezone.now() - dt.timedelta(hours=1),
        image_send_allowed=True,
        image_checked_at=timezone.now(),
    )


@pytest.fixture
def tiktok():
    ratelimit.reset()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    ratelimit.reset()


def add_send(mock, *, message_id="msg-out-1", code=0, status=200, body=None, log_id="log-1"):
    payload = body if body is not None else envelope({"message": {"message_id": message_id}}, code=code)
    mock.add(
        responses.POST,
        tiktok_url(constants.PATH_MESSAGE_SEND),
        json=payload,
        status=status,
        headers={constants.LOG_ID_HEADER: log_id},
    )


def sent_bodies(mock, path=constants.PATH_MESSAGE_SEND) -> list[dict]:
    return [json.loads(call.request.body) for call in mock.calls if call.request.url.startswith(tiktok_url(path))]
