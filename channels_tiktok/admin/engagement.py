"""The account page's panels for what users do beyond messages: conversations opened from ads and tiktok.me
links (counts by source) and the comment-to-message switch (with an action to read it from TikTok)."""

from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from channels_tiktok.accounts import selectors
from channels_tiktok.models import TikTokAccount

PANELS = "admin/channels_tiktok/tiktokaccount/panels/"


class EngagementPanels:
    """Mixed into the account admin: `referrals_panel`, `comment_to_message_panel` and their actions."""

    @admin.display(description=_("opened from ads and links"))
    def referrals_panel(self, account: TikTokAccount):
        if account.pk is None:
            return "—"
        counts = selectors.referral_counts(account_ids=[account.pk])[account.pk]
        return render_to_string(f"{PANELS}referrals.html", {"counts": counts})

    @admin.display(description=_("comment-to-message"))
    def comment_to_message_panel(self, account: TikTokAccount):
        return render_to_string(f"{PANELS}comment_to_message.html", {"account": account})
