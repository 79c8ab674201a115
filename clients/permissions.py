"""Every API object belongs to the caller's project; another project's objects answer 404."""

from rest_framework.permissions import BasePermission

from .authentication import ProjectPrincipal


class IsProjectKey(BasePermission):
    """The caller authenticated with a project API key."""

    def has_permission(self, request, view):
        return isinstance(request.user, ProjectPrincipal)


class ProjectScopedMixin:
    """For API views: `self.project` is the caller's project; querysets must filter by it."""

    permission_classes = [IsProjectKey]

    @property
    def project(self):
        return self.request.user.project
