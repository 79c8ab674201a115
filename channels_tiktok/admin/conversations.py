"""Admin for conversations and their messaging windows."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.admin.big_lists import BigListAdmin, IdInputFilter

from .. import window
from ..models import Conversation


class AccountIdFilter(IdInputFilter):
    title = _("account id")
    parameter_name = "account"
    field_path = "account_id"


@admin.register(Conversation)
class ConversationAdmin(BigListAdmin):
    list_display = ("conversation_id", "client", "account", "last_inbound_at", "window_sent", "window_column")
    list_filter = (AccountIdFilter,)
    list_select_related = ("client", "account")
    exact_search_fields = ("conversation_id",)
    raw_id_fields = ("client", "account")

    @admin.display(description=_("window"))
    def window_column(self, conversation):
        state = window.state(conversation, now=timezone.now())
        if not state.open:
            return _("closed")
        return _("open: %(left)d left until %(until)s") % {
            "left": state.messages_left,
            "until": timezone.localtime(state.expires_at).strftime("%Y-%m-%d %H:%M"),
        }
