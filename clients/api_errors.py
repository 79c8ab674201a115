"""The API's error format: stable snake_case codes the bot can branch on (B4).

- one error:        `{"code": "window_closed", "message": "..."}` (+ extra fields, e.g. `tiktok_code`)
- rule violations:  `{"errors": [{"code", "field", "message"}]}` with HTTP 422
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApiError(exceptions.APIException):
    """An error answered as `{"code", "message", **extra}` with the given HTTP status.

    `retry_after` (seconds) also sets the `Retry-After` header, through DRF's `wait`."""

    def __init__(
        self,
        *,
        code: str,
        message: StrOrPromise,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.extra = extra
        if retry_after is not None:
            self.wait = retry_after
            self.extra["retry_after"] = retry_after


class ViolationsError(exceptions.APIException):
    """Rule violations, answered 422 with the list of `{"code", "field", "message"}`."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(detail=_("The request breaks one or more rules."), code="rule_violation")
        self.errors = errors


# Every code the API answers with: code -> (HTTP status, meaning). The API docs print this table; channels add
# their codes with `document_codes` (channels_tiktok does it in its AppConfig.ready()).
ERROR_CODES: dict[str, tuple[int, str]] = {
    "not_authenticated": (401, "No `Authorization: Api-Key <key>` header."),
    "invalid_api_key": (401, "The API key is unknown or revoked."),
    "permission_denied": (403, "The caller may not do this."),
    "not_found": (404, "No such object in the caller's project (another project's objects are not found either)."),
    "method_not_allowed": (405, "The HTTP method is not supported here."),
    "unsupported_media_type": (
        415,
        "The body's content type is not accepted: send JSON (`Content-Type: application/json`), or multipart "
        "where a file is accepted. The message names the type received and the ones accepted.",
    ),
    "request_too_large": (413, "The body is larger than the service accepts (DATA_UPLOAD_MAX_MEMORY_SIZE)."),
    "malformed_request": (400, "The body could not be parsed."),
    "invalid": (422, "A field of the request is invalid (see `field`)."),
    "required": (422, "A required field is missing (see `field`)."),
    "rate_limited": (429, "Too many calls; retry after the `Retry-After` header's seconds."),
    "variable_read_only": (422, "The variable is maintained by the channel; the API cannot change or delete it."),
    "variable_required": (409, "The channel cannot work without this variable, so it cannot be deleted."),
    "variable_key_invalid": (422, "A variable key has 1 to CLIENT_VARIABLE_KEY_MAX_LENGTH (64) characters."),
    "variable_value_too_long": (422, "A variable value is longer than CLIENT_VARIABLE_VALUE_MAX_LENGTH (1000)."),
    "too_many_variables": (
        422,
        "The change would give the client more than CLIENT_VARIABLES_MAX_KEYS (100) variables.",
    ),
    "variable_value_invalid": (422, "A variable value is a string (numbers and booleans are stored as text)."),
    "channel_cannot_send": (409, "The client's channel cannot send messages."),
    "invalid_cursor": (400, "The events feed's `after` or a list's `cursor` is not one the API gave out."),
    "invalid_limit": (400, "The `limit` of the events feed or of a list is not a number."),
    "invalid_account": (400, "The `account` filter is not an account id."),
}


# The documented English message of a code -> the same message in the active language (see `localized`).
_LOCALIZED: dict[str, object] = {}


def localize_codes(messages: Mapping[str, StrOrPromise]) -> None:
    """Register translatable (lazy) messages by code; channels call this next to `document_codes`."""
    _LOCALIZED.update(messages)


def localized(code: str, message: StrOrPromise) -> str:
    """`message` in the caller's language when it is exactly the documented English text of `code`; messages
    carrying live details (TikTok's own text, a delay) are returned unchanged."""
    text = str(message)
    documented = ERROR_CODES.get(code)
    if code in _LOCALIZED and documented and text == documented[1]:
        return str(_LOCALIZED[code])
    return text


def localized_errors(errors: list[dict]) -> list[dict]:
    return [{**error, "message": localized(error.get("code", ""), error.get("message", ""))} for error in errors]


def document_codes(codes: dict[str, str], *, status_code: int) -> None:
    """Add a channel's codes to the documented table (the first registration of a code wins)."""
    for code, meaning in codes.items():
        ERROR_CODES.setdefault(code, (status_code, meaning))


# DRF's own errors get stable codes too.
_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "invalid_api_key",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "malformed_request",
    exceptions.Throttled: "rate_limited",
}


def _flatten(detail: Any, field: str | None = None) -> Iterator[dict[str, Any]]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if field is None else f"{field}.{key}"
            yield from _flatten(value, None if key == "non_field_errors" else name)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            yield from _flatten(value, f"{field}.{index}" if nested and field else field)
    else:
        yield {"code": getattr(detail, "code", "invalid") or "invalid", "field": field, "message": str(detail)}


def _unsupported_media_type(context: dict[str, Any]) -> exceptions.UnsupportedMediaType:
    """DRF's 415, with a message that names the content type received and the ones this endpoint accepts."""
    request, view = context.get("request"), context.get("view")
    received = request.content_type if request is not None else ""
    accepted = ", ".join(parser.media_type for parser in (view.get_parsers() if view is not None else []))
    if not received:
        detail = _("The request has no Content-Type header; this endpoint accepts %(accepted)s.")
    else:
        detail = _('The body\'s content type is "%(received)s"; this endpoint accepts %(accepted)s.')
    return exceptions.UnsupportedMediaType(received, detail=detail % {"received": received, "accepted": accepted})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # DRF answers Django's Http404 / PermissionDenied too; give them the stable codes of their DRF twins.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        exc = _unsupported_media_type(context)
    elif isinstance(exc, RequestDataTooBig):
        # Django would answer its HTML 400 page; the API answers in its own format.
        exc = ApiError(
            code="request_too_large",
            message=_("The request body is larger than %(limit)s bytes.")
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = {"code": exc.code, "message": localized(exc.code, exc.message), **exc.extra}
    elif isinstance(exc, ViolationsError):
        response.data = {"errors": localized_errors(exc.errors)}
    elif isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": list(_flatten(exc.detail))}
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    elif isinstance(exc, exceptions.APIException):  # the only other kind DRF answers
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response.data = {"code": code, "message": message}
    return response
