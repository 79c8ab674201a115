"""Every API object belongs to the caller's project; another project's objects answer 404."""

from django.http import Http404, HttpRequest
from rest_framework.permissions import BasePermission

from .authentication import ProjectPrincipal
from .query_params import database_id


class IsProjectKey(BasePermission):
    """The caller authenticated with a project API key."""

    def has_permission(self, request: HttpRequest, view):
        return isinstance(request.user, ProjectPrincipal)


class ProjectScopedMixin:
    """For API views: `self.project` is the caller's project; querysets must filter by it."""

    permission_classes = [IsProjectKey]

    @property
    def project(self):
        return self.request.user.project

    def initial(self, request: HttpRequest, *args, **kwargs):
        """After authentication: an id in the URL beyond any the database can hold is not found (SQLite would
        overflow comparing it)."""
        super().initial(request, *args, **kwargs)
        if "pk" in kwargs and database_id(kwargs["pk"]) is None:
            raise Http404
