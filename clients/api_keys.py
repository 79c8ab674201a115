"""API keys of the bot builder: `<prefix>.<secret>`; only a SHA-256 of the secret is stored.

Every way to make or end a key goes through here: the owner's page (/api-keys/), the admin, `manage.py
create_api_key` and `setup_dev`. The full key exists once, in what `create_api_key` returns.
"""

import hashlib
import hmac
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from .models import ApiKey, Project

SEPARATOR = "."
NAME_MAX_LENGTH = 100
# "Last used" is written at most this often per key: one UPDATE per key and minute, not one per request.
LAST_USED_RESOLUTION_SECONDS = 60
_PREFIX_ATTEMPTS = 5


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, project: Project, name: str) -> tuple[ApiKey, str]:
    """Create a key named `name` (trimmed, 1 to 100 characters); the full key is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"An API key's name has 1 to {NAME_MAX_LENGTH} characters.")
    secret = secrets.token_urlsafe(32)
    for attempt in range(_PREFIX_ATTEMPTS):
        prefix = secrets.token_hex(4)
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(project=project, name=name, prefix=prefix, hashed_secret=_hash(secret))
        except IntegrityError:
            # Another key holds this prefix (one in 4 billion per key): draw again.
            if attempt == _PREFIX_ATTEMPTS - 1:
                raise
            continue
        return key, f"{prefix}{SEPARATOR}{secret}"
    raise AssertionError("unreachable")


def revoke_api_key(*, key: ApiKey) -> bool:
    """Revoke `key` from now on; False if it already was. The row stays (name, dates) for the record."""
    now = timezone.now()
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        key.revoked_at = now
    return bool(revoked)


def project_keys(project: Project) -> QuerySet[ApiKey]:
    """A project's keys, active ones first, newest first."""
    return ApiKey.objects.filter(project=project).order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")


def check_api_key(raw: str) -> ApiKey | None:
    """The active key matching `raw`, or None. Constant-time comparison of the hash."""
    prefix, _, secret = raw.partition(SEPARATOR)
    if not prefix or not secret:
        return None
    key = ApiKey.objects.select_related("project").filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_secret, _hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
