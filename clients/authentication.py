from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from clients.models import ApiKey

from .api_keys import check_api_key

KEYWORD = "Api-Key"


class ProjectPrincipal:
    """The authenticated caller of the API: a project, through one of its keys."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.project = api_key.project

    def __str__(self) -> str:
        return f"project:{self.project.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`, scoped to the key's project."""

    def authenticate(self, request: Request) -> tuple[ProjectPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _sep, raw = header.partition(" ")
        if keyword != KEYWORD:
            return None
        api_key = check_api_key(raw.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."), code="invalid_api_key")
        return ProjectPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
