"""The account page's automatic messages: a read-only panel and an action that reads them back from TikTok."""

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from channels_tiktok.accounts import auto_messages
from channels_tiktok.messaging.outbound import OutboundError
from channels_tiktok.models import AutoMessage, TikTokAccount

if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


class AutoMessagesAdminMixin(_AdminBase):
    """Mixed into the account admin: `auto_messages_panel` (a read-only field) and `refresh_auto_messages`."""

    @admin.display(description=_("automatic messages"))
    def auto_messages_panel(self, account: TikTokAccount) -> SafeString:
        enabled = account.auto_messages_enabled or {}
        switches = format_html_join(
            " · ",
            "{}: <strong>{}</strong>",
            ((label, _("on") if enabled.get(value) else _("off")) for value, label in AutoMessage.Type.choices),
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (m.get_type_display(), m.position, m.title or "—", m.content, m.get_review_status_display() or "—")
                for m in account.auto_messages.order_by("type", "position")
            ),
        )
        refreshed = account.auto_messages_refreshed_at or _("never")
        table = (
            format_html(
                "<table><thead><tr><th>{}</th><th>#</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
                "<tbody>{}</tbody></table>",
                _("type"),
                _("question or title"),
                _("text"),
                _("review"),
                rows,
            )
            if rows
            else _("none")
        )
        return format_html(
            "<div>{}</div><div>{}</div><div class='help'>{} {}</div>",
            switches,
            table,
            _("Last read from TikTok:"),
            refreshed,
        )

    @admin.action(description=_("Refresh automatic messages from TikTok"))
    def refresh_auto_messages(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset:
            try:
                config = auto_messages.refresh(account)
            except OutboundError as error:
                self.message_user(request, f"{account}: {error.message}", messages.ERROR)
            else:
                count = sum(len(config[s]["items"]) for s in auto_messages.SECTIONS)
                self.message_user(
                    request,
                    _("%(account)s: %(count)d automatic messages read from TikTok.")
                    % {"account": account, "count": count},
                    messages.SUCCESS,
                )
