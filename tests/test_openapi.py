"""The API docs: a valid OpenAPI 3 schema without warnings, every endpoint and every error code in it."""

import io
import re

import pytest
import yaml
from django.core.management import call_command

from channels_tiktok.api.messages import QUEUE_CODES
from channels_tiktok.messaging import comment_dm, comment_moderation, comment_replies, images, outbound, rules, videos
from clients.api_errors import ERROR_CODES
from clients.models import BotEvent


@pytest.fixture(scope="module")
def schema():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_schema_lists_every_bot_builder_endpoint(schema):
    paths = schema["paths"]
    assert {
        "/api/v1/clients/",
        "/api/v1/clients/{id}/",
        "/api/v1/clients/{id}/variables/",
        "/api/v1/clients/{id}/variables/{key}/",
        "/api/v1/clients/{id}/messages/",
        "/api/v1/clients/{id}/comment-replies/",
        "/api/v1/messages/validate/",
        "/api/v1/events/",
        "/api/v1/clients/{id}/actions/",
        "/api/v1/clients/{id}/comment-dm/",
        "/api/v1/clients/{id}/queued-messages/",
        "/api/v1/clients/{id}/queued-messages/{queued_id}/",
        "/api/v1/clients/{id}/window/",
        "/api/v1/tiktok/accounts/",
        "/api/v1/tiktok/accounts/{id}/",
        "/api/v1/tiktok/accounts/{id}/videos/",
        "/api/v1/tiktok/accounts/{id}/auto-messages/",
        "/api/v1/tiktok/accounts/{id}/auto-messages/refresh/",
        "/api/v1/tiktok/accounts/{id}/comments/{comment_id}/actions/",
        "/api/v1/tiktok/accounts/{id}/comment-to-message/",
    } <= set(paths)
    send = paths["/api/v1/clients/{id}/messages/"]["post"]
    assert {"201", "401", "404", "409", "422", "429", "502"} <= set(send["responses"])
    assert "multipart/form-data" in send["requestBody"]["content"]
    assert "/webhooks/tiktok/" not in paths


def test_every_error_code_is_documented(schema):
    description = schema["info"]["description"]
    codes = {
        *rules.CODES,
        *rules.WARNING_CODES,
        *images.CODES,
        *comment_replies.CODES,
        *outbound.CONFLICT_CODES,
        *outbound.UPSTREAM_CODES,
        *outbound.UNAVAILABLE_CODES,
        *outbound.BUSY_CODES,
        *rules.AUTO_MESSAGE_CODES,
        *rules.SLOT_CODES,
        *comment_moderation.CODES,
        *comment_dm.CODES,
        *videos.CODES,
        *QUEUE_CODES,
        "rate_limited",
        "not_found",
        "invalid_api_key",
        "not_authenticated",
        "variable_read_only",
        "variable_required",
    }
    assert codes <= set(ERROR_CODES)
    for code in codes:
        assert f"| `{code}` |" in description, code
    assert "| `window_closed` | 409 |" in description
    assert "| `button_text_too_long` | 422 |" in description
    assert "| `tiktok_rejected` | 502 |" in description


def test_api_key_scheme(schema):
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }


def test_docs_page_is_served(client):
    assert client.get("/api/docs/").status_code == 200


def test_every_bot_event_type_is_documented(schema):
    description = schema["info"]["description"]
    for event_type in BotEvent.Type.values:
        assert f"| `{event_type}` |" in description, event_type
    assert "does not reopen the messaging window" in description  # client.reaction


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_their_assets_from_our_own_static_files(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith(("/static/", "/api/")) for source in sources), sources
    assert "<script>" not in html
    assert "<style>" not in html
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_swagger_start_script_is_served_as_javascript(client):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()


def test_every_operation_with_a_body_documents_413_and_415(schema):
    description = schema["info"]["description"]
    for code in ("unsupported_media_type", "request_too_large", "too_many_variables", "variable_value_too_long"):
        assert f"| `{code}` |" in description, code
    with_body = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
        if method in ("post", "put", "patch")
    ]
    assert len(with_body) >= 4
    for path, method, operation in with_body:
        assert {"413", "415"} <= set(operation["responses"]), (path, method)
