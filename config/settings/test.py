"""Settings for the pytest suite. DATABASE_URL picks PostgreSQL (CI) or the default SQLite."""

import tempfile
from pathlib import Path

from .base import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
TIKTOK_WEBHOOK_WAKEUP_SECONDS = 0.0  # tasks run before the answer, whatever the environment's broker
TIKTOK_APP_ID = "test-app"
TIKTOK_APP_SECRET = ["test-secret", "old-test-secret"]
TIKTOK_API_BASE_URL = "https://business-api.tiktok.com/open_api/v1.3/"
TIKTOK_RATE_LIMIT_QPS = 1000
CALLBACK_ALLOWED_HOSTS = ["127.0.0.1"]  # the tests' bot receivers listen on loopback
FIELD_ENCRYPTION_KEYS = ["Z3nq2eA2rX2XxqgG1mJ8Xw3k0i3O2b2w5cQ7Wm1yqfU="]

# The TikTok sandbox and the measuring tools: never installed in production.
INSTALLED_APPS = [*INSTALLED_APPS, "channels_tiktok.sandbox", "benchmarks"]
# Inbound media the tests copy go to a temporary folder, not the checkout's media/.
MEDIA_ROOT = str(Path(tempfile.gettempdir()) / "tiktok-channel-test-media")
