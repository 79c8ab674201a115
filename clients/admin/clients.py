"""Admin for clients, their variables and the message log."""

from django.contrib import admin

from ..models import Client, ClientVariable, Message


class ClientVariableInline(admin.TabularInline):
    model = ClientVariable
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("id", "display_name", "username", "external_id", "channel", "last_message_at")
    list_select_related = ("channel",)
    search_fields = ("=external_id", "username", "display_name")
    raw_id_fields = ("channel",)
    inlines = [ClientVariableInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "direction", "kind", "source", "status", "error_code", "client", "channel")
    list_filter = ("direction", "status", "kind", "source")
    list_select_related = ("client", "channel")
    search_fields = ("=external_id",)
    raw_id_fields = ("client", "channel")
    show_full_result_count = False
