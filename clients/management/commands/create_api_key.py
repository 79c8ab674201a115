"""`manage.py create_api_key <project> [--name NAME]`: a new API key of a project, printed once."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from clients.api_keys import NAME_MAX_LENGTH, create_api_key
from clients.models import Project


class Command(BaseCommand):
    help = "Create an API key for a project (its id or exact name) and print the full key, which is shown only once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("project", help="the project's id or exact name")
        parser.add_argument("--name", default="command line", help="what uses the key (default: %(default)s)")

    def handle(self, *args, **options):
        project = _project(options["project"])
        name = options["name"].strip()
        if not name or len(name) > NAME_MAX_LENGTH:
            raise CommandError(f"--name needs 1 to {NAME_MAX_LENGTH} characters.")
        key, raw = create_api_key(project=project, name=name)
        self.stdout.write(f"API key '{key.name}' of '{project.name}' (shown once, keep it): {raw}")


def _project(reference: str) -> Project:
    by_name = list(Project.objects.filter(name=reference)[:2])
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise CommandError(f"Several projects are named '{reference}': give the project's id instead.")
    if reference.isdigit():
        project = Project.objects.filter(pk=int(reference)).first()
        if project is not None:
            return project
    names = ", ".join(f"{pk}: {name}" for pk, name in Project.objects.order_by("pk").values_list("pk", "name")[:20])
    raise CommandError(f"No project '{reference}'. Projects: {names or 'none yet'}.")
