"""Admin for conversations and their messaging windows."""

from django.contrib import admin

from ..models import Conversation


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("conversation_id", "client", "account", "last_inbound_at", "window_sent", "image_send_allowed")
    list_select_related = ("client", "account")
    search_fields = ("=conversation_id",)
    raw_id_fields = ("client", "account")
