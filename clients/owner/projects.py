"""The projects an owner may look at on the owner pages (channels, API keys): the ones they own."""

from django.contrib.auth.models import User
from django.db.models import QuerySet

from clients.models import Project


def owned_projects(user: User) -> QuerySet[Project]:
    return Project.objects.filter(owners=user).order_by("pk")


def owned_project(user: User, project_id: str | int | None) -> Project | None:
    """The project `project_id` if the user owns it; the user's first project when no id is given."""
    projects = owned_projects(user)
    if project_id is None or project_id == "":
        return projects.first()
    try:
        return projects.filter(pk=int(project_id)).first()
    except (TypeError, ValueError):
        return None
