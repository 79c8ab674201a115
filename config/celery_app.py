"""The Celery app. It reads every `CELERY_*` Django setting; with no broker configured tasks run eagerly."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("tiktok_channel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def release_database_connections(task: Any = None, **kwargs: Any) -> None:
    """After each task, what Django does after each request: hand the connection back to the pool, or drop it if it
    is broken (e.g. PostgreSQL restarted), so the next task starts on a healthy one. See CELERY_DB_REUSE_MAX."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # an eager task runs inside the caller's transaction (tests, the embedded default)
    from django.db import close_old_connections

    close_old_connections()
