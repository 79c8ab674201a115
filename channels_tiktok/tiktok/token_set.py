"""What TikTok's token exchange and refresh answer, and its comma-separated scopes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenSet:
    """What the token exchange and refresh answer (data of §2)."""

    open_id: str
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_token_expires_in: int
    scopes: tuple[str, ...]

    @classmethod
    def from_data(cls, data: dict) -> TokenSet:
        return cls(
            open_id=str(data.get("open_id", "")),
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token", ""),
            expires_in=int(data.get("expires_in") or 0),
            refresh_token_expires_in=int(data.get("refresh_token_expires_in") or 0),
            scopes=parse_scopes(data.get("scope", "")),
        )

    def __repr__(self) -> str:  # never print tokens
        return f"TokenSet(open_id={self.open_id!r}, scopes={self.scopes!r})"


def parse_scopes(value: str | Iterable[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    return tuple(sorted({item.strip() for item in items if item and item.strip()}))
