"""Settings shared by every environment, read from the environment with django-environ.

The embedded default (no variables set) is a single machine: SQLite file, tasks run in-process, the
local-memory cache. `DATABASE_URL`, `REDIS_URL` / `CELERY_BROKER_URL` switch to PostgreSQL and Celery.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ---------------------------------------------------------------------------------------------- core
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_beat",
    "axes",
    "clients",
    "channels_tiktok",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: answers a locked-out login with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ------------------------------------------------------------------------------------------ database
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Check a reused connection before a request uses it. With psycopg's pool Django turns this into the pool's `check`
# (ConnectionPool.check_connection on every checkout): after PostgreSQL restarts, a stale pooled connection is
# replaced instead of failing the request that drew it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool: one per process; CONN_MAX_AGE must stay 0 with it.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=1),
        "max_size": env.int("DATABASE_POOL_MAX", default=10),
        "timeout": 10,
    }
    # Server-side prepared statements, for the queries that bind on the server (only the webhook journal's INSERT,
    # channels_tiktok/webhooks/intake/insert.py): PostgreSQL parses and plans it once per connection. Empty turns
    # them off, for a PgBouncer older than 1.21 in transaction mode, which cannot carry them.
    _prepare_threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(_prepare_threshold) if _prepare_threshold else None
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the sandbox's webhooks write without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------- cache
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tiktok"}}

# ------------------------------------------------------------------------------------------- celery
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
# Without a broker every task runs in-process, right where it is enqueued (after the commit).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Never fall back to Celery's default (AMQP on localhost): in-process mode has no broker at all.
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An unreachable broker must not hold a webhook answer: publish fails fast and the sweeper picks the row up.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_ROUTES = {
    "channels_tiktok.tasks.process_webhook_event": {"queue": "inbound"},
    "channels_tiktok.tasks.sweep_*": {"queue": "inbound"},
    "channels_tiktok.tasks.prune_*": {"queue": "inbound"},
    "clients.tasks.*": {"queue": "outbound"},
    "channels_tiktok.tasks.refresh_*": {"queue": "outbound"},
}
CELERY_TASK_DEFAULT_QUEUE = "inbound"
# Celery's Django fixup closes every database connection before and after each task, and in a prefork worker it
# closes psycopg's whole pool too: a new PostgreSQL connection (a backend fork) per task. Let it do so only
# every 2 x this many tasks; config/celery_app.py hands the connection back to the pool after each task instead.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100_000)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-webhook-journal": {"task": "channels_tiktok.tasks.sweep_webhook_events", "schedule": 60.0},
    "sweep-bot-events": {"task": "clients.tasks.sweep_bot_events", "schedule": 60.0},
    "refresh-expiring-tokens": {"task": "channels_tiktok.tasks.refresh_expiring_tokens", "schedule": 600.0},
    "prune-webhook-journal": {"task": "channels_tiktok.tasks.prune_webhook_journal", "schedule": 600.0},
    "prune-bot-events": {"task": "clients.tasks.prune_bot_events", "schedule": 600.0},
    "emit-window-events": {"task": "channels_tiktok.tasks.emit_window_events", "schedule": 60.0},
    "sweep-queued-messages": {"task": "channels_tiktok.tasks.sweep_queued_messages", "schedule": 60.0},
}
# Retention (clients/retention.py): finished journal rows and bot events older than this many days are deleted
# by the beat's schedule, a batch at a time; 0 keeps them forever. The journal keeps at least 3 days: TikTok
# retries a delivery for 72 hours, and a journal row is what recognises the retry as a duplicate.
TIKTOK_JOURNAL_RETENTION_DAYS = env.int("TIKTOK_JOURNAL_RETENTION_DAYS", default=30)
BOT_EVENT_RETENTION_DAYS = env.int("BOT_EVENT_RETENTION_DAYS", default=30)
# A project's callback URL must reach a public address (checked when saved and again before each push); hosts in
# this list skip the check (a bot on loopback in the demo and the loopback stack).
CALLBACK_ALLOWED_HOSTS = env.list("CALLBACK_ALLOWED_HOSTS", default=[])

# --------------------------------------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The admin's login lockout (django-axes): this many failed logins from one address lock it out for the cool-off.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_MINUTES", default=15.0) / 60  # hours, as django-axes counts
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.proxies.client_ip"  # X-Forwarded-For only from TRUSTED_PROXY_COUNT proxies
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/login_locked.html"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "channels"
LOGOUT_REDIRECT_URL = "login"

# ------------------------------------------------------------------------------------------- i18n
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# ----------------------------------------------------------------------------------------- static
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# -------------------------------------------------------------------------------------------- DRF
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["clients.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["clients.permissions.IsProjectKey"],
    "DEFAULT_PAGINATION_CLASS": "clients.pagination.NewestFirstPagination",
    "EXCEPTION_HANDLER": "clients.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only (the send endpoints add multipart for uploads): a JSON body labelled as a form, what `curl -d`
    # does, is answered 415 instead of being read as an empty form. The parser refuses documents nested deeper
    # than any request needs (400, not a RecursionError's 500).
    "DEFAULT_PARSER_CLASSES": ["clients.parsers.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"webhook_bad_signature": "30/min"},
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TikTok channel API",
    "DESCRIPTION": "The bot builder's API of the TikTok channel. Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs pages load Swagger UI and ReDoc from our own static files: no CDN, so they work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Named so a message's status is one enum wherever a message appears (the log, a send's answer).
    "ENUM_NAME_OVERRIDES": {"MessageStatusEnum": "clients.models.Message.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clients.api.docs.add_error_codes",
        "clients.api.docs.add_event_types",
        "clients.api.docs.add_common_error_responses",
    ],
}
# Bounds of one client's variables, which every bot event carries: keys per client, characters per key and value.
CLIENT_VARIABLES_MAX_KEYS = env.int("CLIENT_VARIABLES_MAX_KEYS", default=100)
CLIENT_VARIABLE_KEY_MAX_LENGTH = env.int("CLIENT_VARIABLE_KEY_MAX_LENGTH", default=64)  # at most 100, the column's
CLIENT_VARIABLE_VALUE_MAX_LENGTH = env.int("CLIENT_VARIABLE_VALUE_MAX_LENGTH", default=1000)

# --------------------------------------------------------------------------------------- security
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    # A fixed development key so the embedded default runs out of the box; production must set its own.
    default=["Z3nq2eA2rX2XxqgG1mJ8Xw3k0i3O2b2w5cQ7Wm1yqfU="],
)
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp) on every page: scripts, styles sheets, fonts and requests only from our own
# origin, no inline script at all (the pages declare behaviour in data attributes, static/site/page.js handles it).
# Style attributes are allowed: the admin and its panels colour values with them, and they cannot run code.
# Images may come from any https origin: account avatars are on TikTok's CDN. No form-action: connecting an account
# posts to us and is redirected to TikTok's consent page, which form-action would block.
CSP_IMAGE_ORIGINS = env.list("CSP_IMAGE_ORIGINS", default=["https:"])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", *CSP_IMAGE_ORIGINS],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# How many proxies of our own stand in front of the service and append to X-Forwarded-For (config/proxies.py):
# the throttles and the login lockout take the client's address from there. 0 uses the connection's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# ----------------------------------------------------------------------------------------- TikTok
TIKTOK_APP_ID = env("TIKTOK_APP_ID", default="sandbox-app")
TIKTOK_APP_SECRET = env.list("TIKTOK_APP_SECRET", default=["sandbox-secret"])
TIKTOK_API_BASE_URL = env("TIKTOK_API_BASE_URL", default="https://business-api.tiktok.com/open_api/v1.3/")
TIKTOK_AUTHORIZE_URL = env("TIKTOK_AUTHORIZE_URL", default="https://www.tiktok.com/v2/auth/authorize/")
TIKTOK_REDIRECT_URI = env("TIKTOK_REDIRECT_URI", default="http://127.0.0.1:8000/tiktok/oauth/callback/")
TIKTOK_SCOPES = env.list("TIKTOK_SCOPES", default=[])  # empty: every scope of constants.ALL_SCOPES
TIKTOK_WEBHOOK_TOLERANCE_SECONDS = env.int("TIKTOK_WEBHOOK_TOLERANCE_SECONDS", default=300)
TIKTOK_WEBHOOK_CALLBACK_URL = env("TIKTOK_WEBHOOK_CALLBACK_URL", default="http://127.0.0.1:8000/webhooks/tiktok/")
# How long a journaled delivery may wait for its processing to be queued: the wake-ups of one web process within
# this interval go out together, off the request's path (channels_tiktok/webhooks/intake/wakeups.py). Without a
# broker (`make run`) the wake-up thread runs the processing itself: the webhook still answers at once. 0 wakes in
# the request, before the answer (the test suite, which then sees processing synchronously).
TIKTOK_WEBHOOK_WAKEUP_SECONDS = env.float("TIKTOK_WEBHOOK_WAKEUP_SECONDS", default=0.02)
TIKTOK_RATE_LIMIT_QPS = env.int("TIKTOK_RATE_LIMIT_QPS", default=10)
TIKTOK_HTTP_TIMEOUT_SECONDS = env.float("TIKTOK_HTTP_TIMEOUT_SECONDS", default=10.0)
# Image URLs are fetched only from public addresses; the sandbox (on loopback) is allowed by this list.
IMAGE_FETCH_ALLOWED_HOSTS = env.list("IMAGE_FETCH_ALLOWED_HOSTS", default=[])
IMAGE_FETCH_TIMEOUT_SECONDS = env.float("IMAGE_FETCH_TIMEOUT_SECONDS", default=5.0)  # the whole download
# Image downloads one project may run at once in one process; more are answered 429 image_fetch_busy.
IMAGE_FETCH_CONCURRENCY_PER_PROJECT = env.int("IMAGE_FETCH_CONCURRENCY_PER_PROJECT", default=2)
# How long a conversation's image capability (R8) is trusted before TikTok is asked again.
TIKTOK_IMAGE_CAPABILITY_TTL_SECONDS = env.int("TIKTOK_IMAGE_CAPABILITY_TTL_SECONDS", default=3600)
# The account's post list (business/video/list/) is cached this long per page (a share checks it first).
TIKTOK_VIDEO_LIST_CACHE_SECONDS = env.int("TIKTOK_VIDEO_LIST_CACHE_SECONDS", default=60)
# window.closing is sent this many minutes before a client's messaging window ends (messaging/window_events.py).
TIKTOK_WINDOW_CLOSING_LEAD_MINUTES = env.int("TIKTOK_WINDOW_CLOSING_LEAD_MINUTES", default=60)
# A send with "when_closed": "queue" waits this many days for the client to write again (messaging/queue.py).
TIKTOK_QUEUED_MESSAGE_TTL_DAYS = env.float("TIKTOK_QUEUED_MESSAGE_TTL_DAYS", default=7.0)
# A send waits at most this long for the rate limiter; beyond it the bot gets 429 rate_limited + Retry-After.
TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS = env.float("TIKTOK_RATE_LIMIT_MAX_WAIT_SECONDS", default=3.0)
# Spacing added to the rate limiter's one-second window to absorb the varying delay between a call's admission and
# its arrival at TikTok: the sustained rate is QPS / (1 s + margin).
TIKTOK_RATE_LIMIT_MARGIN_SECONDS = env.float("TIKTOK_RATE_LIMIT_MARGIN_SECONDS", default=0.02)
# The bot's `text` for a message without text (kind -> text, e.g. {"sticker": "🧸"}); unset kinds get the translated
# defaults of channels_tiktok/webhooks/placeholders.py ("[sticker]", "[video]", ...).
TIKTOK_MESSAGE_PLACEHOLDERS = env.json("TIKTOK_MESSAGE_PLACEHOLDERS", default={})
# Inbound images and videos are copied into `default_storage` (MEDIA_ROOT unless STORAGES says otherwise) and the
# bot gets a signed link of ours (channels_tiktok/webhooks/media.py).
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# Copy each inbound image and video right after it arrives (False: only when its link is first opened).
TIKTOK_KEEP_MEDIA = env.bool("TIKTOK_KEEP_MEDIA", default=True)
TIKTOK_MEDIA_MAX_BYTES = env.int("TIKTOK_MEDIA_MAX_BYTES", default=50 * 1024 * 1024)
TIKTOK_MEDIA_LINK_MAX_AGE_SECONDS = env.int("TIKTOK_MEDIA_LINK_MAX_AGE_SECONDS", default=90 * 86400)
TIKTOK_MEDIA_FETCH_DEADLINE_SECONDS = env.float("TIKTOK_MEDIA_FETCH_DEADLINE_SECONDS", default=60.0)
TIKTOK_MEDIA_RETRIES = env.int("TIKTOK_MEDIA_RETRIES", default=3)
TIKTOK_MEDIA_RETRY_BACKOFF_SECONDS = env.float("TIKTOK_MEDIA_RETRY_BACKOFF_SECONDS", default=30.0)

# ---------------------------------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # requests-oauthlib and oauthlib print tokens and the client secret at DEBUG.
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
