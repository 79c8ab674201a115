"""Admin for the webhook journal (B3)."""

from django.contrib import admin

from ..models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "received_at", "event", "business_id", "status", "attempts")
    list_filter = ("status", "event")
    search_fields = ("=business_id", "=conversation_id", "=comment_id", "=dedupe_key")
    raw_id_fields = ("account",)
    show_full_result_count = False
