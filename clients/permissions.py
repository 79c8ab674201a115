"""Every API object belongs to the caller's project; another project's objects answer 404."""

from typing import TYPE_CHECKING, Any

from django.http import Http404
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .authentication import ProjectPrincipal
from .models import Project
from .query_params import database_id

if TYPE_CHECKING:
    # The mixin is only ever mixed into API views; the settings load this module while rest_framework.views is
    # still importing, so the real base class stays `object`.
    from rest_framework.views import APIView

    _ViewBase = APIView
else:
    _ViewBase = object


class IsProjectKey(BasePermission):
    """The caller authenticated with a project API key."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return isinstance(request.user, ProjectPrincipal)


class ProjectScopedMixin(_ViewBase):
    """A base for API views: `self.project` is the caller's project; querysets must filter by it."""

    permission_classes = [IsProjectKey]

    @property
    def project(self) -> Project:
        user = self.request.user
        assert isinstance(user, ProjectPrincipal)  # IsProjectKey let the request in
        return user.project

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication: an id in the URL beyond any the database can hold is not found (SQLite would
        overflow comparing it)."""
        super().initial(request, *args, **kwargs)
        if "pk" in kwargs and database_id(kwargs["pk"]) is None:
            raise Http404
