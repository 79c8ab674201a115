"""The account page's panels for what users do beyond messages: conversations opened from ads and tiktok.me
links (counts by source) and the comment-to-message switch (with an action to read it from TikTok)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from channels_tiktok.accounts import selectors
from channels_tiktok.accounts.tokens import AccountUnavailableError
from channels_tiktok.messaging import comment_dm
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError

PANELS = "admin/channels_tiktok/tiktokaccount/panels/"

if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[TikTokAccount]
else:
    _AdminBase = object


class EngagementPanels(_AdminBase):
    """Mixed into the account admin: `referrals_panel`, `comment_to_message_panel` and the switch's actions."""

    ENGAGEMENT_ACTIONS = ("read_comment_to_message", "enable_comment_to_message", "disable_comment_to_message")

    @admin.display(description=_("opened from ads and links"))
    def referrals_panel(self, account: TikTokAccount) -> str:
        if account.pk is None:
            return "—"
        counts = selectors.referral_counts(account_ids=[account.pk])[account.pk]
        return render_to_string(f"{PANELS}referrals.html", {"counts": counts})

    @admin.display(description=_("comment-to-message"))
    def comment_to_message_panel(self, account: TikTokAccount) -> str:
        return render_to_string(f"{PANELS}comment_to_message.html", {"account": account})

    def _switch(
        self, request: HttpRequest, queryset: QuerySet[TikTokAccount], operation: Callable[[TikTokAccount], Any]
    ) -> None:
        for account in queryset:
            try:
                operation(account)
            except (TikTokError, AccountUnavailableError) as exc:
                self.message_user(request, f"{account}: {exc}", level=messages.ERROR)
            else:
                state = _("on") if account.comment_to_message else _("off")
                self.message_user(
                    request, _("%(account)s: comment-to-message is %(state)s.") % {"account": account, "state": state}
                )

    @admin.action(description=_("Read comment-to-message from TikTok"))
    def read_comment_to_message(self, request: HttpRequest, queryset: QuerySet[TikTokAccount]) -> None:
        self._switch(request, queryset, comment_dm.read_switch)

    @admin.action(description=_("Switch comment-to-message on"))
    def enable_comment_to_message(self, request: HttpRequest, queryset: QuerySet[TikTokAccount]) -> None:
        self._switch(request, queryset, lambda account: comment_dm.set_switch(account, enabled=True))

    @admin.action(description=_("Switch comment-to-message off"))
    def disable_comment_to_message(self, request: HttpRequest, queryset: QuerySet[TikTokAccount]) -> None:
        self._switch(request, queryset, lambda account: comment_dm.set_switch(account, enabled=False))
