"""Admin for conversations and their messaging windows (R5, R6, R8)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .. import window
from ..models import Conversation


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = (
        "conversation_id",
        "client",
        "account",
        "last_inbound_at",
        "window_sent",
        "messages_left",
        "image_send_allowed",
    )
    list_select_related = ("client", "account")
    list_filter = ("image_send_allowed",)
    search_fields = ("=conversation_id", "=client__external_id")
    raw_id_fields = ("client", "account")
    readonly_fields = ("window_expires_at", "messages_left", "image_checked_at", "updated_at")
    show_full_result_count = False

    @admin.display(description=_("messages left"))
    def messages_left(self, conversation):
        return window.state(conversation).messages_left

    @admin.display(description=_("window ends"))
    def window_expires_at(self, conversation):
        return window.state(conversation).expires_at or "-"
