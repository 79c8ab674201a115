"""The Celery app. It reads every `CELERY_*` Django setting; with no broker configured tasks run eagerly."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("tiktok_channel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
