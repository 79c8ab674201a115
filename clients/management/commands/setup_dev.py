"""Create the documented local login and a demo project with an API key (idempotent)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from clients.api_keys import create_api_key
from clients.models import Project

DEV_USERNAME = "admin"
DEV_PASSWORD = "admin"  # noqa: S105 - documented local-only login of the embedded default
DEMO_PROJECT = "Demo bot"


class Command(BaseCommand):
    help = "Create the local admin login (admin / admin) and a demo project; prints a fresh API key once."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEV_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEV_PASSWORD)
            user.save()
            self.stdout.write(f"Created the local login {DEV_USERNAME} / {DEV_PASSWORD}.")
        project, created = Project.objects.get_or_create(name=DEMO_PROJECT)
        project.owners.add(user)
        if created or not project.api_keys.filter(revoked_at__isnull=True).exists():
            _key, raw = create_api_key(project=project, name="demo")
            self.stdout.write(f"API key of '{DEMO_PROJECT}' (shown once): {raw}")
            self.stdout.write(
                f"Lost it? Create another on the API keys page (/api-keys/) or with "
                f'`manage.py create_api_key "{DEMO_PROJECT}"`.'
            )
