"""The granted scopes of an account, kept equal to what TikTok last reported (R3)."""

from collections.abc import Iterable

from channels_tiktok.models import GrantedScope, TikTokAccount


def sync_granted_scopes(*, account: TikTokAccount, scopes: Iterable[str]) -> tuple[set[str], set[str]]:
    """Make the account's GrantedScope rows equal `scopes`. Returns (added, removed)."""
    wanted = set(scopes)
    current = set(account.scopes.values_list("scope", flat=True))
    added, removed = wanted - current, current - wanted
    if removed:
        account.scopes.filter(scope__in=removed).delete()
    GrantedScope.objects.bulk_create(
        [GrantedScope(account=account, scope=scope) for scope in sorted(added)], ignore_conflicts=True
    )
    return added, removed
