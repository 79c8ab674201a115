"""Admin for the webhook journal (B3): read-only, the raw payload readable, a replay action."""

from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import journal, wire
from clients.admin.big_lists import BigListAdmin, IdInputFilter, SinceFilter
from clients.admin.readonly import ReadOnlyAdminMixin, pretty_json


class EventNameFilter(admin.SimpleListFilter):
    """TikTok's event names from the facts module: a DISTINCT over the journal would scan it."""

    title = _("event")
    parameter_name = "event"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return [(name, name) for name in constants.KNOWN_EVENTS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return queryset.filter(event=self.value()) if self.value() else queryset


class AccountIdFilter(IdInputFilter):
    title = _("account id")
    parameter_name = "account"
    field_path = "account_id"


class ReceivedSinceFilter(SinceFilter):
    field_path = "received_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, BigListAdmin):
    list_display = ("id", "received_at", "event", "business_id", "account", "status", "attempts", "short_error")
    list_filter = (ReceivedSinceFilter, "status", EventNameFilter, AccountIdFilter)
    list_select_related = ("account",)
    exact_search_fields = ("business_id", "conversation_id", "comment_id", "dedupe_key")
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
        "fetching_until",
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
    def short_error(self, obj: WebhookEvent) -> str:
        return obj.error[:80]

    @admin.display(description=_("envelope"))
    def envelope(self, obj: WebhookEvent) -> str:
        try:
            parsed = wire.parse_envelope(obj.raw_body.encode())
        except wire.MalformedPayloadError as exc:
            return str(exc)
        return pretty_json({key: value for key, value in parsed.raw.items() if key != "content"})

    @admin.display(description=_("content (parsed)"))
    def content(self, obj: WebhookEvent) -> str:
        try:
            return pretty_json(wire.parse_envelope(obj.raw_body.encode()).content)
        except wire.MalformedPayloadError as exc:
            return str(exc)

    @admin.action(description=_("Replay: process again (idempotent)"))
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
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
                request,
                ngettext("%(count)d failed again: see its error.", "%(count)d failed again: see their error.", failed)
                % {"count": failed},
                messages.WARNING,
            )
