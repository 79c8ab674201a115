"""Pure verdicts on a connected account: its permissions (R3), its regional availability (R4), its token.

The channels page, the admin and the API all show these, built by one call (`account_verdicts`, or
`verdicts_of` for a loaded account), so the three never disagree. No database, no HTTP: the inputs are plain
values (`verdicts_of` reads a loaded account and its prefetched scopes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from channels_tiktok import constants
from channels_tiktok.accounts.countries import country_name
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.oauth import requested_scopes


@dataclass(frozen=True)
class MissingScope:
    scope: str
    features: str  # what stops working without it
    blocking: bool  # the channel cannot work at all without it
    fix: str


@dataclass(frozen=True)
class PermissionsVerdict:
    needed: tuple[str, ...]
    granted: tuple[str, ...]
    missing: tuple[MissingScope, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def blocking(self) -> bool:
        return any(item.blocking for item in self.missing)

    @property
    def missing_scopes(self) -> tuple[str, ...]:
        return tuple(item.scope for item in self.missing)


def reconnect_fix(scopes: Iterable[str]) -> str:
    """The only fix TikTok allows: scopes are chosen on its consent page (R3)."""
    return _("Reconnect the account and allow %(scopes)s on TikTok's consent page.") % {
        "scopes": ", ".join(f"“{scope}”" for scope in scopes)
    }


def permissions_verdict(granted: Iterable[str], *, needed: Iterable[str] = constants.ALL_SCOPES) -> PermissionsVerdict:
    """What is missing from `needed` in `granted`, with what each missing scope breaks and how to fix it."""
    granted_set = set(granted)
    needed = tuple(needed)
    missing = tuple(
        MissingScope(
            scope=scope,
            features=str(constants.SCOPE_FEATURES.get(scope, scope)),
            blocking=scope in constants.REQUIRED_SCOPES,
            fix=reconnect_fix([scope]),
        )
        for scope in needed
        if scope not in granted_set
    )
    return PermissionsVerdict(needed=needed, granted=tuple(sorted(granted_set)), missing=missing)


RESTRICTED_USERS_NOTE = _(
    "Users located in the United States, the EEA, Switzerland or the United Kingdom cannot reach the bot: "
    "TikTok does not deliver their messages (they are logged as blocked)."
)


@dataclass(frozen=True)
class RegionVerdict:
    country: str
    country_name: str
    region: str | None
    region_name: str
    available: bool | None  # None: the country is not stated or not in TikTok's table
    explanation: str
    users_note: StrOrPromise = RESTRICTED_USERS_NOTE


def region_verdict(country: str) -> RegionVerdict:
    """Whether TikTok's messaging API works for an account registered in `country` (§8)."""
    country = (country or "").upper()
    region = constants.region_of(country)
    available = constants.region_available(country)
    name = country_name(country) if country else ""
    explanation: StrOrPromise
    if not country:
        explanation = _("The registered country is not known: ask the owner and set it.")
    elif region is None:
        explanation = _("%(country)s is not in TikTok's list of regions: messaging availability is unknown.") % {
            "country": name
        }
    elif available:
        explanation = _("TikTok's messaging API is available for accounts registered in %(country)s (%(region)s).") % {
            "country": name,
            "region": constants.REGION_NAMES[region],
        }
    else:
        explanation = _(
            "TikTok's messaging API is not available for accounts registered in %(country)s (%(region)s): "
            "the bot cannot receive or send direct messages with this account."
        ) % {"country": name, "region": constants.REGION_NAMES[region]}
    return RegionVerdict(
        country=country,
        country_name=name,
        region=region,
        region_name=str(constants.REGION_NAMES[region]) if region else "",
        available=available,
        explanation=str(explanation),
    )


@dataclass(frozen=True)
class TokenState:
    code: str  # valid | expiring | expired | needs_reauth | disconnected
    label: str
    access_expires_at: dt.datetime | None
    refresh_expires_at: dt.datetime | None


def token_state(
    *,
    status: str,
    access_expires_at: dt.datetime | None,
    refresh_expires_at: dt.datetime | None,
    now: dt.datetime,
    margin: dt.timedelta = dt.timedelta(hours=2),
) -> TokenState:
    """How the account's authorisation stands, for people (never the token itself)."""
    if status == "disconnected":
        code, label = "disconnected", _("disconnected: no token is kept")
    elif status == "needs_reauth":
        code, label = "needs_reauth", _("authorisation lost: the owner must reconnect")
    elif access_expires_at is None or access_expires_at <= now:
        code, label = "expired", _("expired: renewed automatically before the next call")
    elif access_expires_at - now <= margin:
        code, label = "expiring", _("expires soon: renewed automatically")
    else:
        code, label = "valid", _("valid")
    return TokenState(
        code=code, label=str(label), access_expires_at=access_expires_at, refresh_expires_at=refresh_expires_at
    )


@dataclass(frozen=True)
class AccountVerdicts:
    """Every verdict on one account, as the owner's page, the admin and the API show it."""

    status: str
    permissions: PermissionsVerdict
    region: RegionVerdict
    token: TokenState

    @property
    def needs_reconnect(self) -> bool:
        """Reconnecting (TikTok's consent page again) is the fix: lost authorisation or missing scopes."""
        return self.status != "active" or not self.permissions.complete

    @property
    def permissions_fix(self) -> str:
        return reconnect_fix(self.permissions.missing_scopes) if self.permissions.missing else ""


def account_verdicts(
    *,
    status: str,
    granted: Iterable[str],
    country: str,
    access_expires_at: dt.datetime | None,
    refresh_expires_at: dt.datetime | None,
    now: dt.datetime,
    needed: Iterable[str] | None = None,
) -> AccountVerdicts:
    """`needed`: the scopes asked for on the consent page unless given."""
    return AccountVerdicts(
        status=status,
        permissions=permissions_verdict(granted, needed=requested_scopes() if needed is None else needed),
        region=region_verdict(country),
        token=token_state(
            status=status, access_expires_at=access_expires_at, refresh_expires_at=refresh_expires_at, now=now
        ),
    )


def verdicts_of(account: TikTokAccount, *, now: dt.datetime | None = None) -> AccountVerdicts:
    """`account_verdicts` of a loaded `TikTokAccount` (prefetch its `scopes` when there are many)."""
    return account_verdicts(
        status=account.status,
        granted=[scope.scope for scope in account.scopes.all()],
        country=account.country,
        access_expires_at=account.access_token_expires_at,
        refresh_expires_at=account.refresh_token_expires_at,
        now=now or timezone.now(),
    )
