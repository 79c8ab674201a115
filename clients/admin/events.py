"""Admin for bot events and their deliveries: status, attempts, re-deliver."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import delivery
from ..models import BotEvent, DeliveryAttempt
from .readonly import ReadOnlyAdminMixin, pretty_json


class DeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    ordering = ("-id",)
    readonly_fields = ("created_at", "url", "response_status", "response_body", "error", "duration_ms")


@admin.register(BotEvent)
class BotEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "type", "project", "client", "status", "attempts", "created_at", "delivered_at")
    list_filter = ("status", "type")
    list_select_related = ("project", "client")
    search_fields = ("=uuid", "=dedupe_key")
    raw_id_fields = ("project", "channel", "client")
    show_full_result_count = False
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]
    fields = (
        "uuid",
        "type",
        "project",
        "channel",
        "client",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "dedupe_key",
        "pretty_body",
    )
    readonly_fields = fields

    @admin.display(description=_("body"))
    def pretty_body(self, obj):
        return pretty_json(obj.body)

    @admin.action(description=_("Re-deliver to the callback URL"))
    def redeliver(self, request, queryset):
        pushed = queryset.exclude(project__callback_url="")
        count = 0
        for event in pushed.order_by("id"):
            delivery.redeliver(event=event)
            count += 1
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext("%(count)d event queued.", "%(count)d events queued.", count) % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                _("%(count)d skipped: their project has no callback URL.") % {"count": skipped},
                messages.WARNING,
            )
