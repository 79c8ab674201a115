"""The embedded default for one machine and the demo: DEBUG on, SQLite, tasks in-process, the sandbox as TikTok.

`make run` (scripts/run_dev.py) starts the TikTok sandbox (`manage.py run_sandbox`) on TIKTOK_SANDBOX_URL and
runserver on DEV_SERVER_URL: every TikTok URL points at the sandbox, and the OAuth redirect URI and the webhook
callback URL at runserver, unless set in the environment.
"""

from urllib.parse import urlsplit

from .base import *

DEBUG = env.bool("DJANGO_DEBUG", default=True)

TIKTOK_SANDBOX_URL = env("TIKTOK_SANDBOX_URL", default="http://127.0.0.1:8001").rstrip("/")
TIKTOK_API_BASE_URL = env("TIKTOK_API_BASE_URL", default=f"{TIKTOK_SANDBOX_URL}/open_api/v1.3/")
TIKTOK_AUTHORIZE_URL = env("TIKTOK_AUTHORIZE_URL", default=f"{TIKTOK_SANDBOX_URL}/v2/auth/authorize/")
# Where runserver listens (`make run PORT=...`): TikTok sends the browser back there and delivers webhooks there.
DEV_SERVER_URL = env("DEV_SERVER_URL", default="http://127.0.0.1:8000").rstrip("/")
TIKTOK_REDIRECT_URI = env("TIKTOK_REDIRECT_URI", default=f"{DEV_SERVER_URL}/tiktok/oauth/callback/")
TIKTOK_WEBHOOK_CALLBACK_URL = env("TIKTOK_WEBHOOK_CALLBACK_URL", default=f"{DEV_SERVER_URL}/webhooks/tiktok/")
# The bot's links to inbound images and videos (`data.<image|video>.link`) open on this runserver too.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default=DEV_SERVER_URL)
# The sandbox serves media download URLs on loopback: allow it despite its private address.
IMAGE_FETCH_ALLOWED_HOSTS = env.list("IMAGE_FETCH_ALLOWED_HOSTS", default=[urlsplit(TIKTOK_SANDBOX_URL).hostname])
# The demo's bot may listen on this machine.
CALLBACK_ALLOWED_HOSTS = env.list("CALLBACK_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# The TikTok sandbox and the measuring tools: never installed in production.
INSTALLED_APPS = [*INSTALLED_APPS, "channels_tiktok.sandbox", "benchmarks"]
