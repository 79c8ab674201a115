"""Admin for clients (variables, window, latest messages) and the message log."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from ..api_errors import ERROR_CODES
from ..channel_registry import provider_for
from ..models import Client, ClientVariable, Message
from .big_lists import BigListAdmin, IdInputFilter, SinceFilter

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

RECENT_MESSAGES = 20


class ClientVariableInline(admin.TabularInline):
    model = ClientVariable
    extra = 0
    fields = ("key", "value", "updated_at")
    readonly_fields = ("updated_at",)


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
    list_filter = ("channel__kind", ChannelIdFilter)
    list_select_related = ("channel",)
    exact_search_fields = ("external_id", "username")
    raw_id_fields = ("channel",)
    readonly_fields = ("window", "recent_messages", "created_at", "last_message_at")
    inlines = [ClientVariableInline]

    def exact_search_q(self, term: str) -> Q:
        return super().exact_search_q(term.removeprefix("@"))

    @admin.display(description=_("messaging window"))
    def window(self, client: Client) -> str:
        info = provider_for(client.channel).window(client)
        if info is None:
            return "-"
        if not info.open:
            return _("closed (ended %(at)s)") % {"at": info.expires_at or "-"}
        return _("open until %(at)s, %(left)s message(s) left") % {"at": info.expires_at, "left": info.messages_left}

    @admin.display(description=_("latest messages"))
    def recent_messages(self, client: Client) -> SafeString:
        messages = Message.objects.filter(client=client).order_by("-id")[:RECENT_MESSAGES]
        rows = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:clients_message_change", args=[m.pk]),
                    m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    m.get_direction_display(),
                    m.get_kind_display(),
                    m.get_status_display(),
                    m.error_code,
                    m.text[:80],
                )
                for m in messages
            ),
        )
        log = reverse("admin:clients_message_changelist") + f"?client={client.pk}"
        return format_html("<table>{}</table><p><a href='{}'>{}</a></p>", rows, log, _("whole message log"))


class ErrorCodeFilter(admin.SimpleListFilter):
    """The documented codes, not a DISTINCT over the whole log (it holds millions of rows)."""

    title = _("error code")
    parameter_name = "error_code"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return [("", _("none")), *((code, code) for code in sorted(ERROR_CODES))]

    def choices(self, changelist: ChangeList) -> Iterator["_ListFilterChoices"]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        return queryset if value is None else queryset.filter(error_code=value)


class MessageSinceFilter(SinceFilter):
    field_path = "created_at"


@admin.register(Message)
class MessageAdmin(BigListAdmin):
    list_display = ("id", "created_at", "direction", "kind", "source", "status", "error_code", "client", "channel")
    list_filter = (
        MessageSinceFilter,
        "direction",
        "status",
        ErrorCodeFilter,
        "kind",
        "source",
        ChannelIdFilter,
        ClientIdFilter,
    )
    list_select_related = ("client", "channel")
    exact_search_fields = ("external_id",)
    raw_id_fields = ("client", "channel")
    readonly_fields = ("media_preview", "created_at", "sent_at", "read_at")

    @admin.display(description=_("media"))
    def media_preview(self, message: Message) -> str:
        """An inbound image (thumbnail) or video by the link the bot got (the channel puts it in the payload)."""
        block = message.payload.get(message.kind) if isinstance(message.payload, dict) else None
        url = block.get("link") if isinstance(block, dict) else None
        if not url:
            return "—"
        return render_to_string(
            "admin/clients/message/media_preview.html",
            {"url": url, "video": message.kind == "video", "status": message.payload.get("media_status", "")},
        )
