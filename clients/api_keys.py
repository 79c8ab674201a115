"""API keys of the bot builder: `<prefix>.<secret>`; only a SHA-256 of the secret is stored."""

import hashlib
import hmac
import secrets

from django.utils import timezone

from .models import ApiKey, Project

SEPARATOR = "."


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, project: Project, name: str) -> tuple[ApiKey, str]:
    """Create a key; the full key is returned once and never stored."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(project=project, name=name, prefix=prefix, hashed_secret=_hash(secret))
    return key, f"{prefix}{SEPARATOR}{secret}"


def check_api_key(raw: str) -> ApiKey | None:
    """The active key matching `raw`, or None. Constant-time comparison of the hash."""
    prefix, _, secret = raw.partition(SEPARATOR)
    if not prefix or not secret:
        return None
    key = ApiKey.objects.select_related("project").filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_secret, _hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
