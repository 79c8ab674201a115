"""Admin for bot events and their deliveries: status, attempts, re-deliver."""

import uuid

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import delivery
from ..models import BotEvent, DeliveryAttempt
from .big_lists import BigListAdmin, IdInputFilter, SinceFilter
from .readonly import ReadOnlyAdminMixin, pretty_json

# What staff see of a bot's answer: its first characters only (escaped, as every admin value). The answer is the
# bot's own text, which may carry anything its server returns; the stored copy is longer, for support.
ANSWER_EXCERPT_CHARS = 200


@admin.display(description=_("response (excerpt)"))
def response_excerpt(attempt: DeliveryAttempt) -> str:
    body = attempt.response_body or ""
    return body if len(body) <= ANSWER_EXCERPT_CHARS else body[:ANSWER_EXCERPT_CHARS] + "…"


class DeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    ordering = ("-id",)
    # django-stubs allow only names here; Django also takes a callable shown read-only.
    fields = ("created_at", "url", "response_status", response_excerpt, "error", "duration_ms")  # type: ignore[assignment]
    readonly_fields = fields  # type: ignore[assignment]


class ProjectIdFilter(IdInputFilter):
    title = _("project id")
    parameter_name = "project"
    field_path = "project_id"


class EventIdFilter(IdInputFilter):
    title = _("bot event id")
    parameter_name = "event"
    field_path = "event_id"


@admin.register(BotEvent)
class BotEventAdmin(ReadOnlyAdminMixin, BigListAdmin):
    list_display = ("id", "type", "project", "client", "status", "attempts", "created_at", "delivered_at")
    list_filter = (SinceFilter, "status", "type", ProjectIdFilter)
    list_select_related = ("project", "client")
    exact_search_fields = ("dedupe_key",)
    raw_id_fields = ("project", "channel", "client")
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

    def exact_search_q(self, term: str) -> Q:
        query = super().exact_search_q(term)
        try:
            return query | Q(uuid=uuid.UUID(term))
        except ValueError:
            return query

    @admin.display(description=_("body"))
    def pretty_body(self, obj: BotEvent) -> str:
        return pretty_json(obj.body)

    @admin.action(description=_("Re-deliver to the callback URL"))
    def redeliver(self, request: HttpRequest, queryset: QuerySet) -> None:
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
                ngettext(
                    "%(count)d skipped: its project has no callback URL.",
                    "%(count)d skipped: their project has no callback URL.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdminMixin, BigListAdmin):
    list_display = ("id", "created_at", "event", "url", "response_status", "short_error", "duration_ms")
    list_filter = (SinceFilter, EventIdFilter)
    list_select_related = ("event",)
    raw_id_fields = ("event",)
    # django-stubs allow only names here; Django also takes a callable shown read-only.
    fields = ("event", "created_at", "url", "response_status", response_excerpt, "error", "duration_ms")  # type: ignore[assignment]
    readonly_fields = fields  # type: ignore[assignment]

    @admin.display(description=_("error"))
    def short_error(self, obj: DeliveryAttempt) -> str:
        return obj.error[:80]
