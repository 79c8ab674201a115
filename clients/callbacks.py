"""Where a project's bot events are pushed, and the secret that signs them (services; the owner's page calls them).

The signing secret is made here, shown to the owner once, and kept encrypted: neither the admin nor the API ever
shows it. A project without a secret gets one the first time its callback URL is set.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError

from .models import Project

SECRET_BYTES = 32


def new_callback_secret(*, project: Project) -> str:
    """Give the project a new signing secret and return it (the only time it is shown). Pushes signed with the old
    one stop at once: the bot builder must switch to the new one."""
    secret = "whsec_" + secrets.token_urlsafe(SECRET_BYTES)
    project.callback_secret = secret
    project.save(update_fields=["callback_secret"])
    return secret


def set_callback_url(*, project: Project, url: str) -> str | None:
    """Set (or clear, with "") where bot events are pushed, validated like every callback address (public only).
    Returns a new signing secret when the project had none, else None. Raises ValidationError."""
    project.callback_url = url.strip()
    project.full_clean(validate_unique=False, validate_constraints=False, exclude=["owners"])
    project.save(update_fields=["callback_url"])
    if project.callback_url and not project.callback_secret:
        return new_callback_secret(project=project)
    return None


__all__ = ["ValidationError", "new_callback_secret", "set_callback_url"]
