"""Admin for clients, their variables and the message log."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import Client, ClientVariable, Message
from .big_lists import BigListAdmin, IdInputFilter, SinceFilter


class ClientVariableInline(admin.TabularInline):
    model = ClientVariable
    extra = 0


class ChannelIdFilter(IdInputFilter):
    title = _("channel id")
    parameter_name = "channel"
    field_path = "channel_id"


class ClientIdFilter(IdInputFilter):
    title = _("client id")
    parameter_name = "client"
    field_path = "client_id"


@admin.register(Client)
class ClientAdmin(BigListAdmin):
    list_display = ("id", "display_name", "username", "external_id", "channel", "last_message_at")
    list_filter = (ChannelIdFilter,)
    list_select_related = ("channel",)
    exact_search_fields = ("external_id", "username")
    raw_id_fields = ("channel",)
    inlines = [ClientVariableInline]

    def exact_search_q(self, term):
        return super().exact_search_q(term.removeprefix("@"))


class MessageSinceFilter(SinceFilter):
    field_path = "created_at"


@admin.register(Message)
class MessageAdmin(BigListAdmin):
    list_display = ("id", "created_at", "direction", "kind", "source", "status", "error_code", "client", "channel")
    list_filter = (MessageSinceFilter, "direction", "status", "kind", "source", ChannelIdFilter, ClientIdFilter)
    list_select_related = ("client", "channel")
    exact_search_fields = ("external_id",)
    raw_id_fields = ("client", "channel")
