"""Services for connected accounts: connect (R1-R4), disconnect, re-check, webhooks, registered country."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_tiktok import constants
from channels_tiktok.accounts.countries import is_country
from channels_tiktok.accounts.scopes import sync_granted_scopes
from channels_tiktok.accounts.status import emit_account_status, emit_scopes_changed
from channels_tiktok.accounts.tokens import call, store_tokens
from channels_tiktok.accounts.verdicts import PermissionsVerdict, RegionVerdict, permissions_verdict, region_verdict
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok import oauth
from channels_tiktok.tiktok.client import TikTokClient, TikTokError
from clients.models import Channel, Project

logger = logging.getLogger(__name__)


class ConnectOutcome(enum.StrEnum):
    CONNECTED = "connected"
    MISSING_MESSAGING_SCOPES = "missing_messaging_scopes"
    PERSONAL_ACCOUNT = "personal_account"
    OTHER_PROJECT = "other_project"
    TIKTOK_FAILED = "tiktok_failed"


@dataclass
class ConnectResult:
    outcome: ConnectOutcome
    account: TikTokAccount | None = None
    reconnected: bool = False
    permissions: PermissionsVerdict | None = None
    region: RegionVerdict | None = None
    webhooks: dict[str, str] = field(default_factory=dict)
    error: TikTokError | None = None


def _revoke(client: TikTokClient, *, business_id: str) -> bool:
    """Give a token we will not keep back to TikTok. A failure is logged: the token then simply expires."""
    try:
        client.revoke()
    except TikTokError as error:
        logger.warning(
            "tiktok.oauth.revoke_failed", extra={"business_id": business_id, "code": error.code, "log_id": error.log_id}
        )
        return False
    return True


def _profile(client: TikTokClient, *, business_id: str, scopes: tuple[str, ...]) -> dict:
    """The profile fields the granted scopes allow ({} when none): the account still connects without them."""
    fields = [name for name in constants.PROFILE_FIELDS if constants.PROFILE_FIELD_SCOPES[name] in scopes]
    if not fields:
        return {}
    try:
        return client.get_profile(business_id=business_id, fields=fields)
    except TikTokError as error:
        if error.code != constants.CODE_NO_PERMISSION:
            raise
        logger.info("tiktok.account.profile_not_granted", extra={"business_id": business_id})
        return {}


def _apply_profile(account: TikTokAccount, profile: dict) -> None:
    if not profile:
        return
    account.username = str(profile.get("username") or account.username)[:200]
    account.display_name = str(profile.get("display_name") or account.display_name)[:200]
    account.avatar_url = str(profile.get("profile_image") or account.avatar_url)[:1000]
    if profile.get("is_business_account") is not None:
        account.is_business_account = bool(profile["is_business_account"])


def connect_account(*, project: Project, user: User, code: str, country: str) -> ConnectResult:
    """Finish a connect: exchange the code, check scopes and account type, store the account, subscribe webhooks.

    Refused connections (messaging scopes missing, personal account) keep nothing and give the token back.
    Reconnecting an account updates it. An account registered in an unavailable region is stored (its owner
    may move it, and staff can correct a wrong country), with the verdict shown wherever the account is.
    """
    try:
        tokens = oauth.exchange_code(code=code)
    except TikTokError as error:
        return ConnectResult(outcome=ConnectOutcome.TIKTOK_FAILED, error=error)
    business_id = tokens.open_id
    client = TikTokClient(tokens.access_token)
    permissions = permissions_verdict(tokens.scopes, needed=oauth.requested_scopes())
    region = region_verdict(country)
    if permissions.blocking:
        logger.info("tiktok.connect.refused", extra={"business_id": business_id, "why": "messaging_scopes"})
        _revoke(client, business_id=business_id)
        return ConnectResult(outcome=ConnectOutcome.MISSING_MESSAGING_SCOPES, permissions=permissions, region=region)
    try:
        profile = _profile(client, business_id=business_id, scopes=tokens.scopes)
    except TikTokError as error:
        _revoke(client, business_id=business_id)
        return ConnectResult(outcome=ConnectOutcome.TIKTOK_FAILED, error=error, permissions=permissions)
    if profile.get("is_business_account") is False:
        logger.info("tiktok.connect.refused", extra={"business_id": business_id, "why": "personal_account"})
        _revoke(client, business_id=business_id)
        return ConnectResult(outcome=ConnectOutcome.PERSONAL_ACCOUNT, permissions=permissions, region=region)

    existing = TikTokAccount.objects.select_related("channel").filter(business_id=business_id).first()
    if existing is not None and existing.channel.project_id != project.pk:
        # Not revoked: on TikTok's side the authorisation may be the one the other project still uses.
        logger.warning(
            "tiktok.connect.refused",
            extra={"business_id": business_id, "why": "other_project", "project_id": project.pk},
        )
        return ConnectResult(outcome=ConnectOutcome.OTHER_PROJECT, permissions=permissions, region=region)

    with transaction.atomic():
        if existing is not None:
            account = TikTokAccount.objects.select_for_update().select_related("channel__project").get(pk=existing.pk)
        else:
            channel = Channel.objects.create(project=project, kind=Channel.Kind.TIKTOK)
            account = TikTokAccount(channel=channel, business_id=business_id)
        previous_status = account.status if existing is not None else None
        _apply_profile(account, profile)
        store_tokens(account=account, tokens=tokens)
        account.status = TikTokAccount.Status.ACTIVE
        account.status_reason = ""
        account.country = country.upper()
        account.connected_by = user
        account.save()
        if account.channel.name != (account.username or business_id):
            Channel.objects.filter(pk=account.pk).update(name=account.username or business_id)
        added, removed = sync_granted_scopes(account=account, scopes=tokens.scopes)
        if existing is not None and previous_status != TikTokAccount.Status.ACTIVE:
            emit_account_status(account=account, status=TikTokAccount.Status.ACTIVE, reason="reconnected")
        elif existing is not None:
            emit_scopes_changed(account=account, scopes=tokens.scopes, added=added, removed=removed)
    logger.info(
        "tiktok.connect.connected",
        extra={
            "account_id": account.pk,
            "business_id": business_id,
            "reconnected": existing is not None,
            "missing_scopes": ",".join(permissions.missing_scopes),
            "region_available": region.available,
        },
    )
    return ConnectResult(
        outcome=ConnectOutcome.CONNECTED,
        account=account,
        reconnected=existing is not None,
        permissions=permissions,
        region=region,
        webhooks=subscribe_webhooks(account=account),
    )


def disconnect_account(*, account: TikTokAccount) -> bool:
    """Revoke the account's token at TikTok and forget it; the account and its history stay. Returns
    whether TikTok confirmed the revocation."""
    revoked = False
    if account.access_token:
        revoked = _revoke(TikTokClient(account.access_token), business_id=account.business_id)
    with transaction.atomic():
        account = TikTokAccount.objects.select_for_update().select_related("channel__project").get(pk=account.pk)
        was = account.status
        account.access_token = ""
        account.refresh_token = ""
        account.access_token_expires_at = None
        account.refresh_token_expires_at = None
        account.status = TikTokAccount.Status.DISCONNECTED
        account.status_reason = str(_("Disconnected by the owner."))
        account.save()
        if was != TikTokAccount.Status.DISCONNECTED:
            emit_account_status(account=account, status=TikTokAccount.Status.DISCONNECTED, reason="disconnected")
    logger.info("tiktok.account.disconnected", extra={"account_id": account.pk, "revoked": revoked})
    return revoked


def recheck_account(*, account: TikTokAccount) -> PermissionsVerdict:
    """Ask TikTok again which scopes are granted and what the profile is; store both."""
    info = call(account, lambda client: client.token_info())
    scopes = tuple(sorted({s.strip() for s in str(info.get("scope", "")).split(",") if s.strip()}))
    profile = call(account, lambda client: _profile(client, business_id=account.business_id, scopes=scopes))
    with transaction.atomic():
        account = TikTokAccount.objects.select_for_update().select_related("channel__project").get(pk=account.pk)
        _apply_profile(account, profile)
        account.save(update_fields=["username", "display_name", "avatar_url", "is_business_account", "updated_at"])
        added, removed = sync_granted_scopes(account=account, scopes=scopes)
        emit_scopes_changed(account=account, scopes=scopes, added=added, removed=removed)
    logger.info("tiktok.account.rechecked", extra={"account_id": account.pk, "scopes": ",".join(scopes)})
    return permissions_verdict(scopes, needed=oauth.requested_scopes())


def _subscribed_url(listing: dict) -> str:
    """The callback URL in a webhook/list answer (a subscription object or a list of them)."""
    candidates = listing.get("list") or listing.get("subscriptions") or [listing]
    for item in candidates if isinstance(candidates, list) else [candidates]:
        if isinstance(item, dict) and item.get("callback_url"):
            return str(item["callback_url"])
    return ""


def subscribe_webhooks(*, account: TikTokAccount | None = None, force: bool = False) -> dict[str, str]:
    """Make sure the app's webhook subscriptions point at us (one per app and event type, §5).

    Returns {event_type: "subscribed" | "already" | "failed"}. Failures are logged, never raised: the owner's
    connect succeeds and staff can subscribe again from the admin.
    """
    client = TikTokClient()
    callback_url = settings.TIKTOK_WEBHOOK_CALLBACK_URL
    result: dict[str, str] = {}
    for event_type in constants.WEBHOOK_EVENT_TYPES:
        try:
            if not force and _subscribed_url(client.list_webhooks(event_type=event_type)) == callback_url:
                result[event_type] = "already"
                continue
            client.subscribe_webhook(event_type=event_type, callback_url=callback_url)
            result[event_type] = "subscribed"
        except TikTokError as error:
            logger.warning(
                "tiktok.webhooks.subscribe_failed",
                extra={"event_type": event_type, "code": error.code, "log_id": error.log_id},
            )
            result[event_type] = "failed"
    if account is not None and "failed" not in result.values():
        TikTokAccount.objects.filter(pk=account.pk).update(webhooks_subscribed_at=timezone.now())
    logger.info("tiktok.webhooks.checked", extra=result)
    return result


def set_country(*, account: TikTokAccount, country: str) -> TikTokAccount:
    """Record the country the account is registered in (stated by the owner, corrected by staff)."""
    country = country.upper()
    if country and not is_country(country):
        raise ValueError(f"Not an ISO 3166-1 alpha-2 country code: {country!r}")
    TikTokAccount.objects.filter(pk=account.pk).update(country=country, updated_at=timezone.now())
    account.country = country
    logger.info("tiktok.account.country_set", extra={"account_id": account.pk, "country": country})
    return account
