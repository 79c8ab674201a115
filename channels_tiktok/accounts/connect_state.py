"""The owner's connect in flight: the OAuth `state` kept in the owner's session, bound to the user and the project,
single use and valid for TikTok's authorization code lifetime."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase

from channels_tiktok import constants
from channels_tiktok.tiktok.oauth import authorization_url

logger = logging.getLogger(__name__)

SESSION_KEY = "tiktok_oauth_pending"
# An owner may start a few connects (two tabs); more pending states than this are pruned oldest first.
MAX_PENDING = 5


class StateError(Exception):
    """The callback's state does not match a connect this session started: nothing is exchanged."""

    MISSING = "missing"
    UNKNOWN = "unknown"  # reused, from another session, or never issued
    EXPIRED = "expired"
    WRONG_USER = "wrong_user"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PendingConnect:
    """What the owner asked for before going to TikTok."""

    user_id: int
    project_id: int
    country: str
    created_at: float


def begin(session: SessionBase, *, user_id: int, project_id: int, country: str, now: float | None = None) -> str:
    """Record a pending connect in the owner's session and return the consent URL to send them to."""
    now = time.time() if now is None else now
    pending = {
        state: data
        for state, data in (session.get(SESSION_KEY) or {}).items()
        if now - data["created_at"] < constants.AUTH_CODE_TTL_SECONDS
    }
    state = secrets.token_urlsafe(32)
    pending[state] = {"user_id": user_id, "project_id": project_id, "country": country, "created_at": now}
    session[SESSION_KEY] = dict(sorted(pending.items(), key=lambda item: item[1]["created_at"])[-MAX_PENDING:])
    logger.info("tiktok.oauth.begin", extra={"user_id": user_id, "project_id": project_id})
    return authorization_url(state=state)


def consume_state(session: SessionBase, *, state: str | None, user_id: int, now: float | None = None) -> PendingConnect:
    """Take the pending connect of `state` out of the session (single use) or raise `StateError`."""
    now = time.time() if now is None else now
    if not state:
        raise StateError(StateError.MISSING)
    pending = dict(session.get(SESSION_KEY) or {})
    data = pending.pop(state, None)
    session[SESSION_KEY] = pending
    if data is None:
        raise StateError(StateError.UNKNOWN)
    if now - data["created_at"] >= constants.AUTH_CODE_TTL_SECONDS:
        raise StateError(StateError.EXPIRED)
    if data["user_id"] != user_id:
        raise StateError(StateError.WRONG_USER)
    return PendingConnect(**data)
