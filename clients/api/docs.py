"""OpenAPI pieces shared by every endpoint: the error bodies and the table of error codes."""

from typing import Any

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from ..api_errors import ERROR_CODES
from ..authentication import KEYWORD
from ..events import EVENT_TYPES


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """`Authorization: Api-Key <key>` in the schema, so the docs page can send it."""

    target_class = "clients.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`{KEYWORD} <key>`: a project's API key (staff create them in the admin).",
        }


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable snake_case code; see the table in the API description.")
    message = serializers.CharField()
    tiktok_code = serializers.IntegerField(required=False, allow_null=True, help_text="TikTok's code (502).")
    log_id = serializers.CharField(required=False, help_text="TikTok's x-tt-logid, for TikTok support (502).")
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait (429).")


class ViolationSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ViolationsSerializer(serializers.Serializer):
    errors = ViolationSerializer(many=True)  # type: ignore[assignment]  # the stubs take `errors` for the property


_DESCRIPTIONS = {
    400: "A query parameter is not valid (see `code`).",
    401: "Missing or wrong API key (`not_authenticated`, `invalid_api_key`).",
    404: "Not found in the caller's project (`not_found`).",
    409: "Refused because of the client's or account's state (see `code`).",
    422: "The request breaks one or more rules: every violation is listed.",
    429: "Rate limited (`rate_limited`); the `Retry-After` header says when to retry.",
    502: "TikTok refused or did not answer (`tiktok_rejected`, `tiktok_unavailable`).",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ViolationsSerializer if status == 422 else ErrorSerializer, _DESCRIPTIONS[status])
        for status in statuses
    }


def codes_table() -> str:
    rows = [f"| `{code}` | {status} | {meaning} |" for code, (status, meaning) in sorted(ERROR_CODES.items())]
    return "\n".join(["| code | HTTP status | meaning |", "| --- | --- | --- |", *rows])


_COMMON_ERRORS = {
    "400": "The body could not be parsed or nests too deeply (`malformed_request`), or a `cursor` or `limit` is not "
    "valid (`invalid_cursor`, `invalid_limit`).",
    "401": _DESCRIPTIONS[401],
    "404": "Not found in the caller's project (`not_found`).",
    "413": "The body is larger than the service accepts (`request_too_large`).",
    "415": "A content type the operation does not accept (`unsupported_media_type`).",
}


def _applies(status: str, path: str, method: str, operation: dict) -> bool:
    if status == "404":
        return "{" in path
    if status == "400":
        takes_cursor = any(p.get("name") == "cursor" for p in operation.get("parameters", []))
        return "{" in path or method in ("post", "put", "patch") or takes_cursor
    if status in ("413", "415"):
        return method in ("post", "put", "patch")
    return True


def add_common_error_responses(
    result: dict[str, Any], generator: Any, request: HttpRequest | None, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every API operation documents the errors the shared layers give
    (parsing, authentication, project scoping, cursors), whether or not its view lists them."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status, description in _COMMON_ERRORS.items():
                if _applies(status, path, method, operation):
                    responses.setdefault(status, {"content": error, "description": description})
    return result


def add_error_codes(
    result: dict[str, Any], generator: Any, request: HttpRequest | None, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: append the table of every error code to the API description."""
    info = result.setdefault("info", {})
    info["description"] = f"{info.get('description', '')}\n\n## Error codes\n\n{codes_table()}\n"
    return result


def event_types_table() -> str:
    rows = [f"| `{event_type}` | {meaning} |" for event_type, meaning in EVENT_TYPES.items()]
    return "\n".join(["| type | what it tells the bot |", "| --- | --- |", *rows])


def add_event_types(
    result: dict[str, Any], generator: Any, request: HttpRequest | None, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: append the table of bot event types (pushed and in the feed)."""
    info = result.setdefault("info", {})
    info["description"] = f"{info.get('description', '')}\n\n## Bot events\n\n{event_types_table()}\n"
    return result
