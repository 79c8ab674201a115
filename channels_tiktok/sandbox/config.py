"""What the sandbox plays TikTok with: its configuration (rate limit, echo order, token lifetimes, retries,
variety mode, …), changed at run time by the `configure` control action."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox.state import ECHO_AFTER, ECHO_MODES


@dataclass
class Config:
    """How one sandbox instance behaves. It plays one TikTok app (`app_id`)."""

    app_id: str = "sandbox-app"
    # Every secret is accepted on calls (rotation); webhooks are signed with `signing_secret` or the first one.
    app_secrets: tuple[str, ...] = ("sandbox-secret",)
    signing_secret: str | None = None
    rate_limit_qps: int = constants.DEFAULT_RATE_LIMIT_QPS
    access_token_ttl: int = 86_400
    refresh_token_ttl: int = 31_536_000
    # The scopes TikTok approved for the app: asking for any other fails the whole consent (`invalid_scope`).
    approved_scopes: tuple[str, ...] = constants.ALL_SCOPES
    # Registered redirect URIs; empty accepts any (the exchange still checks the exact one of the code).
    redirect_uris: tuple[str, ...] = ()
    echo_mode: str = ECHO_AFTER
    # Bounded imitation of TikTok's 72 h of retries: attempts after the first, exponential backoff.
    retry_attempts: int = 3
    retry_backoff_seconds: float = 0.5
    delivery_timeout_seconds: float = 5.0
    # TikTok sometimes sends 19-digit ids as JSON numbers; the product must keep them as exact strings.
    ids_as_numbers: bool = True
    # Variety mode (sandbox/variety.py): webhooks in the many shapes real TikTok sends (optional fields left out,
    # unknown fields added, ids as numbers or strings, times in seconds or milliseconds). Deterministic per
    # `variety_seed` and delivery.
    variety: bool = False
    variety_seed: int = 0

    @property
    def webhook_secret(self) -> str:
        return self.signing_secret or self.app_secrets[0]

    def updated(self, **changes: Any) -> Config:
        unknown = set(changes) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(f"Unknown sandbox setting(s): {', '.join(sorted(unknown))}")
        for key in ("app_secrets", "approved_scopes", "redirect_uris"):
            if key in changes and isinstance(changes[key], (list, str)):
                value = changes[key]
                changes[key] = tuple(value.split(",") if isinstance(value, str) else value)
        if changes.get("echo_mode", self.echo_mode) not in ECHO_MODES:
            raise ValueError(f"echo_mode must be one of {ECHO_MODES}")
        return replace(self, **changes)
