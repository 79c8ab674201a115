"""Admin for the webhook journal (B3): read-only, the raw payload readable, a replay action."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clients.admin.readonly import ReadOnlyAdminMixin, pretty_json

from .. import journal, webhooks
from ..models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "received_at", "event", "business_id", "account", "status", "attempts", "short_error")
    list_filter = ("status", "event", ("account", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("account",)
    search_fields = ("=business_id", "=conversation_id", "=comment_id", "=dedupe_key")
    date_hierarchy = "received_at"
    show_full_result_count = False
    actions = ["replay"]
    fields = (
        "received_at",
        "event",
        "business_id",
        "account",
        "status",
        "error",
        "attempts",
        "processed_at",
        "next_attempt_at",
        "dedupe_key",
        "conversation_id",
        "comment_id",
        "envelope",
        "content",
        "raw_body",
        "headers",
    )
    readonly_fields = fields

    @admin.display(description=_("outcome"))
    def short_error(self, obj):
        return obj.error[:80]

    @admin.display(description=_("envelope"))
    def envelope(self, obj):
        try:
            parsed = webhooks.parse_envelope(obj.raw_body.encode())
        except webhooks.MalformedPayloadError as exc:
            return str(exc)
        return pretty_json({key: value for key, value in parsed.raw.items() if key != "content"})

    @admin.display(description=_("content (parsed)"))
    def content(self, obj):
        try:
            return pretty_json(webhooks.parse_envelope(obj.raw_body.encode()).content)
        except webhooks.MalformedPayloadError as exc:
            return str(exc)

    @admin.action(description=_("Replay: process again (idempotent)"))
    def replay(self, request, queryset):
        outcomes = [journal.replay(event=event) for event in queryset.order_by("id")]
        failed = sum(1 for event in outcomes if event and event.status == WebhookEvent.Status.FAILED)
        self.message_user(
            request,
            ngettext("%(count)d event replayed.", "%(count)d events replayed.", len(outcomes))
            % {"count": len(outcomes)},
            messages.SUCCESS if not failed else messages.WARNING,
        )
        if failed:
            self.message_user(
                request, _("%(count)d failed again: see their error.") % {"count": failed}, messages.WARNING
            )
