"""What the owner is told on the channels page after a connect attempt (R1): what happened, and the fix."""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext as _

from channels_tiktok.accounts.connect_state import StateError
from channels_tiktok.accounts.services import ConnectOutcome, ConnectResult
from channels_tiktok.accounts.verdicts import reconnect_fix

Notice = tuple[int, str]


def _missing_lines(result: ConnectResult, *, blocking: bool) -> str:
    assert result.permissions is not None  # every outcome that reports permissions carries them
    items = [item for item in result.permissions.missing if item.blocking == blocking]
    return "; ".join(f"“{item.scope}” — {item.features}" for item in items)


def connect_notices(result: ConnectResult) -> list[Notice]:
    """The messages for the outcome of `accounts.connect_account`."""
    if result.outcome == ConnectOutcome.MISSING_MESSAGING_SCOPES:
        assert result.permissions is not None  # a refusal for missing scopes says which
        missing = [item.scope for item in result.permissions.missing if item.blocking]
        return [
            (
                messages.ERROR,
                _(
                    "TikTok was not connected: the permission to use direct messages was not granted (%(missing)s). "
                    "The channel cannot work without it. %(fix)s"
                )
                % {"missing": _missing_lines(result, blocking=True), "fix": reconnect_fix(missing)},
            )
        ]
    if result.outcome == ConnectOutcome.PERSONAL_ACCOUNT:
        return [
            (
                messages.ERROR,
                _(
                    "TikTok was not connected: this is a personal account, and only TikTok Business Accounts can "
                    "be connected. Switch it in the TikTok app: Settings and privacy → Account → Switch to "
                    "Business Account, then press “Connect TikTok” again."
                ),
            )
        ]
    if result.outcome == ConnectOutcome.OTHER_PROJECT:
        return [
            (
                messages.ERROR,
                _(
                    "TikTok was not connected: this TikTok account is already connected to another project. "
                    "Disconnect it there first, or ask support to move it."
                ),
            )
        ]
    if result.outcome == ConnectOutcome.TIKTOK_FAILED:
        error = result.error
        return [
            (
                messages.ERROR,
                _(
                    "TikTok was not connected: TikTok answered with an error (%(message)s; code %(code)s, log id "
                    "%(log_id)s). Press “Connect TikTok” to try again; if it keeps failing, send the log id to "
                    "support."
                )
                % {
                    "message": error.message if error else "",
                    "code": (error.code if error else None) or "-",
                    "log_id": (error.log_id if error else "") or "-",
                },
            )
        ]

    account = result.account
    assert account is not None  # the outcomes above are the ones without an account
    name = f"@{account.username}" if account.username else account.business_id
    notices: list[Notice] = []
    if result.reconnected:
        notices.append((messages.SUCCESS, _("TikTok account %(name)s reconnected.") % {"name": name}))
    else:
        notices.append((messages.SUCCESS, _("TikTok account %(name)s connected.") % {"name": name}))
    if result.permissions and result.permissions.missing:
        missing = list(result.permissions.missing_scopes)
        notices.append(
            (
                messages.WARNING,
                _("Some permissions were not granted, so these features will not work: %(missing)s. %(fix)s")
                % {"missing": _missing_lines(result, blocking=False), "fix": reconnect_fix(missing)},
            )
        )
    if result.region and result.region.available is False:
        notices.append((messages.WARNING, f"{result.region.explanation} {result.region.users_note}"))
    elif result.region and result.region.available is None:
        notices.append((messages.WARNING, result.region.explanation))
    if "failed" in result.webhooks.values():
        notices.append(
            (
                messages.WARNING,
                _("Subscribing to TikTok's webhooks failed; messages will not arrive until support subscribes them."),
            )
        )
    return notices


def refused_notices(*, error: str, description: str) -> list[Notice]:
    """TikTok sent the owner back with `?error=` instead of a code."""
    if error == "access_denied":
        return [
            (
                messages.ERROR,
                _(
                    "TikTok was not connected: the authorisation was declined on TikTok's page. Press “Connect "
                    "TikTok” again and choose “Authorize” to connect."
                ),
            )
        ]
    if error == "invalid_scope":
        return [
            (
                messages.ERROR,
                _(
                    "TikTok was not connected: TikTok refused the permissions the app asked for (%(description)s). "
                    "The app is not approved for one of them: support must adjust TIKTOK_SCOPES."
                )
                % {"description": description or error},
            )
        ]
    return [
        (
            messages.ERROR,
            _(
                "TikTok was not connected: TikTok reported “%(error)s” (%(description)s). "
                "Press “Connect TikTok” to try again."
            )
            % {"error": error, "description": description or "-"},
        )
    ]


def state_notices(error: StateError) -> list[Notice]:
    """The callback did not belong to a connect this browser started (missing, reused, expired, foreign)."""
    if error.reason == StateError.EXPIRED:
        text = _("The connection took too long and expired. Press “Connect TikTok” to start again.")
    else:
        text = _(
            "This TikTok answer does not belong to a connection started here (the link was already used, is "
            "incomplete or comes from another browser). Nothing was connected. Press “Connect TikTok” to start again."
        )
    return [(messages.ERROR, text)]


def missing_code_notices() -> list[Notice]:
    return [(messages.ERROR, _("TikTok sent no authorisation code. Press “Connect TikTok” to try again."))]
