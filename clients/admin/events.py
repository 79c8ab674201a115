"""Admin for bot events and their deliveries."""

from django.contrib import admin

from ..models import BotEvent, DeliveryAttempt


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "url", "response_status", "response_body", "error", "duration_ms")


@admin.register(BotEvent)
class BotEventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "project", "status", "attempts", "created_at", "delivered_at")
    list_filter = ("status", "type")
    list_select_related = ("project",)
    search_fields = ("=uuid",)
    raw_id_fields = ("project", "channel", "client")
    show_full_result_count = False
    inlines = [DeliveryAttemptInline]
