"""The API's error format: stable snake_case codes the bot can branch on (B4).

- one error:        `{"code": "window_closed", "message": "..."}` (+ extra fields, e.g. `tiktok_code`)
- rule violations:  `{"errors": [{"code", "field", "message"}]}` with HTTP 422
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApiError(exceptions.APIException):
    """An error answered as `{"code", "message", **extra}` with the given HTTP status."""

    def __init__(self, *, code: str, message, status_code: int = status.HTTP_400_BAD_REQUEST, **extra):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.extra = extra


class ViolationsError(exceptions.APIException):
    """Rule violations, answered 422 with the list of `{"code", "field", "message"}`."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, errors: list[dict]):
        super().__init__(detail=_("The request breaks one or more rules."), code="rule_violation")
        self.errors = errors


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


def _flatten(detail, field=None):
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


def exception_handler(exc, context):
    # DRF answers Django's Http404 / PermissionDenied too; give them the stable codes of their DRF twins.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = {"code": exc.code, "message": str(exc.message), **exc.extra}
    elif isinstance(exc, ViolationsError):
        response.data = {"errors": exc.errors}
    elif isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": list(_flatten(exc.detail))}
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    else:
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response.data = {"code": code, "message": message}
    return response


def error_response(*, code: str, message, status_code: int, **extra) -> Response:
    return Response({"code": code, "message": str(message), **extra}, status=status_code)
