"""Admin for conversations and their messaging windows (R5, R6, R8); the window's verdict is `rules.window_verdict`."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels_tiktok.admin.display import when, window_text
from channels_tiktok.messaging import window
from channels_tiktok.models import Conversation
from clients.admin.big_lists import BigListAdmin, IdInputFilter
from clients.models import Client


class AccountIdFilter(IdInputFilter):
    title = _("account id")
    parameter_name = "account"
    field_path = "account_id"


@admin.register(Conversation)
class ConversationAdmin(BigListAdmin):
    list_display = (
        "conversation_id",
        "client",
        "account",
        "last_inbound_at",
        "window_sent",
        "window_column",
        "image_send_allowed",
    )
    list_select_related = ("client", "account")
    list_filter = ("image_send_allowed", AccountIdFilter)
    exact_search_fields = ("conversation_id",)
    raw_id_fields = ("client", "account")
    readonly_fields = ("window_expires_at", "messages_left", "image_checked_at", "updated_at")

    def exact_search_q(self, term: str) -> Q:
        # The client's external id through an indexed subquery (a join would be planned per row).
        return super().exact_search_q(term) | Q(client__in=Client.objects.filter(external_id=term).values("pk"))

    @admin.display(description=_("window"))
    def window_column(self, conversation: Conversation) -> str:
        verdict = window.verdict(conversation)
        if not verdict.open:
            return window_text(verdict)
        return _("%(window)s, until %(until)s") % {"window": window_text(verdict), "until": when(verdict.expires_at)}

    @admin.display(description=_("messages left"))
    def messages_left(self, conversation: Conversation) -> int:
        return window.verdict(conversation).messages_left

    @admin.display(description=_("window ends"))
    def window_expires_at(self, conversation: Conversation) -> str:
        return when(window.verdict(conversation).expires_at)
