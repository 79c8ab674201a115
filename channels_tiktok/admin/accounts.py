"""Admin for connected accounts (D3): permissions and regional panels, token state, operations.

The panels are templates (templates/admin/channels_tiktok/tiktokaccount/panels/); the verdicts they show come from
`accounts.verdicts.verdicts_of` and `messaging.window.verdict`, like the owner's page and the API.
Tokens are never shown, not even encrypted: the form excludes them and the panels only say how they stand.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from channels_tiktok import constants
from channels_tiktok.accounts import selectors, services
from channels_tiktok.accounts.countries import country_choices
from channels_tiktok.accounts.reachability import reachability
from channels_tiktok.accounts.tokens import AccountUnavailableError, refresh_access_token
from channels_tiktok.accounts.verdicts import verdicts_of
from channels_tiktok.admin.auto_messages import AutoMessagesAdminMixin
from channels_tiktok.admin.chart import messages_chart
from channels_tiktok.admin.display import window_text
from channels_tiktok.admin.engagement import EngagementPanels
from channels_tiktok.messaging import window
from channels_tiktok.models import GrantedScope, TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from channels_tiktok.tiktok.oauth import requested_scopes
from clients.models import Project


class TikTokAccountForm(forms.ModelForm):
    country = forms.ChoiceField(
        label=_("registered country"),
        required=False,
        choices=lambda: [("", "—"), *country_choices()],
        help_text=_("Stated by the owner when connecting; correct it here if it is wrong."),
    )

    class Meta:
        model = TikTokAccount
        fields = ("country",)


class RegionAvailabilityFilter(admin.SimpleListFilter):
    title = _("region availability")
    parameter_name = "region"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return [("available", _("available")), ("unavailable", _("unavailable")), ("unknown", _("unknown"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        available = [c for c in constants.COUNTRY_REGIONS if constants.region_available(c)]
        unavailable = [c for c in constants.COUNTRY_REGIONS if constants.region_available(c) is False]
        if self.value() == "available":
            return queryset.filter(country__in=available)
        if self.value() == "unavailable":
            return queryset.filter(country__in=unavailable)
        if self.value() == "unknown":
            return queryset.exclude(country__in=available + unavailable)
        return queryset


class MissingScopeFilter(admin.SimpleListFilter):
    title = _("missing scope")
    parameter_name = "missing"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return [("any", _("any scope missing")), *[(scope, scope) for scope in requested_scopes()]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        if not value:
            return queryset
        if value == "any":
            # Accounts holding every requested scope, by one grouped query (a chain of EXISTS plans badly).
            scopes = requested_scopes()
            complete = (
                GrantedScope.objects.filter(scope__in=scopes)
                .values("account_id")
                .annotate(granted=Count("*"))
                .filter(granted=len(set(scopes)))
                .values("account_id")
            )
            return queryset.exclude(pk__in=complete)
        return queryset.exclude(Exists(GrantedScope.objects.filter(account=OuterRef("pk"), scope=value)))


PANELS = "admin/channels_tiktok/tiktokaccount/panels/"


def _panel(name: str, **context: Any) -> SafeString:
    """A panel of the account page, drawn by its template (escaping is the template's)."""
    return render_to_string(f"{PANELS}{name}.html", context)


def _list_url(view: str, **params: Any) -> str:
    return f"{reverse(view)}?{urlencode(params)}"


@admin.register(TikTokAccount)
class TikTokAccountAdmin(AutoMessagesAdminMixin, EngagementPanels, admin.ModelAdmin):
    form = TikTokAccountForm
    list_display = (
        "__str__",
        "business_id",
        "project",
        "status",
        "country",
        "region_column",
        "missing_column",
        "is_business_account",
        "access_token_expires_at",
    )
    list_filter = ("status", RegionAvailabilityFilter, MissingScopeFilter, "is_business_account")
    list_select_related = ("channel__project",)
    search_fields = ("username", "=business_id", "display_name")
    search_help_text = _(
        "Username, business id, conversation id, comment id, message id or a client's external id (exact)."
    )
    readonly_fields = (
        "channel",
        "business_id",
        "username",
        "display_name",
        "is_business_account",
        "status",
        "status_reason",
        "permissions_panel",
        "region_panel",
        "token_panel",
        "webhook_panel",
        "auto_messages_panel",
        "windows_panel",
        "chart_panel",
        "links_panel",
        "referrals_panel",
        "comment_to_message_panel",
        "reachability_panel",
        "connected_by",
        "connected_at",
        "updated_at",
        "webhooks_subscribed_at",
        "last_webhook_at",
    )
    fieldsets = (
        (None, {"fields": ("channel", "business_id", "username", "display_name", "is_business_account")}),
        (_("Status"), {"fields": ("status", "status_reason", "token_panel")}),
        (_("Permissions"), {"fields": ("permissions_panel",)}),
        (_("Region"), {"fields": ("country", "region_panel")}),
        (_("Webhooks"), {"fields": ("webhook_panel",)}),
        (_("Automatic messages"), {"fields": ("auto_messages_panel",)}),
        (_("Messages"), {"fields": ("chart_panel", "windows_panel", "links_panel", "referrals_panel")}),
        (_("Comments"), {"fields": ("comment_to_message_panel",)}),
        (_("Reachability"), {"fields": ("reachability_panel",)}),
        (
            _("History"),
            {"fields": ("connected_by", "connected_at", "updated_at", "webhooks_subscribed_at", "last_webhook_at")},
        ),
    )
    actions = (
        "refresh_token_now",
        "recheck_from_tiktok",
        "refresh_auto_messages",
        "subscribe_webhooks",
        *EngagementPanels.ENGAGEMENT_ACTIONS,
        "disconnect",
    )
    change_form_template = "admin/channels_tiktok/tiktokaccount/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        # The same actions as buttons on each account's page: POST runs one on this account only.
        operation = self.admin_site.admin_view(self.run_operation)
        return [
            path("<path:object_id>/operation/<str:name>/", operation, name="channels_tiktok_tiktokaccount_operation"),
            *super().get_urls(),
        ]

    def run_operation(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if request.method != "POST" or name not in self.actions:
            return HttpResponseNotAllowed(["POST"])
        account = self.get_object(request, object_id)
        if account is None or not self.has_change_permission(request, account):
            raise Http404
        getattr(self, name)(request, self.get_queryset(request).filter(pk=account.pk))
        return redirect("admin:channels_tiktok_tiktokaccount_change", account.pk)

    @classmethod
    def operation_names(cls) -> list[str]:
        """The actions that are also buttons on an account's page: not the comment-to-message switch, a list
        action whose state has a panel of its own."""
        return [name for name in cls.actions if name not in EngagementPanels.ENGAGEMENT_ACTIONS]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        context["operations"] = [(name, getattr(self, name).short_description) for name in self.operation_names()]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("scopes")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts are connected by their owners through OAuth

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Names as usual, plus any id a ticket may quote: each is an exact, indexed lookup (see selectors)."""
        term = search_term.strip().removeprefix("@")
        found, may_have_duplicates = super().get_search_results(request, queryset, term)
        ids = selectors.account_ids_for_id(search_term)
        if ids:
            found = found | queryset.filter(pk__in=ids)
        return found, may_have_duplicates

    # ------------------------------------------------------------------------------------ columns
    @admin.display(description=_("project"), ordering="channel__project__name")
    def project(self, account: TikTokAccount) -> Project:
        return account.channel.project

    @admin.display(description=_("messaging in region"))
    def region_column(self, account: TikTokAccount) -> str:
        available = verdicts_of(account).region.available
        text = _("available") if available else (_("unknown") if available is None else _("unavailable"))
        return render_to_string("admin/channels_tiktok/badge.html", {"ok": available, "text": text})

    @admin.display(description=_("missing scopes"))
    def missing_column(self, account: TikTokAccount) -> str:
        return ", ".join(verdicts_of(account).permissions.missing_scopes) or "—"

    # ------------------------------------------------------------------------------------ panels
    # The verdicts are the ones the owner's page and the API show (accounts.verdicts.verdicts_of).
    @admin.display(description=_("permissions"))
    def permissions_panel(self, account: TikTokAccount) -> str:
        permissions = verdicts_of(account).permissions
        missing = {item.scope: item for item in permissions.missing}
        rows = [(scope, missing.get(scope), constants.SCOPE_FEATURES.get(scope, "")) for scope in permissions.needed]
        return _panel("permissions", verdict=permissions, rows=rows)

    @admin.display(description=_("region"))
    def region_panel(self, account: TikTokAccount) -> str:
        return _panel("region", verdict=verdicts_of(account).region)

    @admin.display(description=_("token"))
    def token_panel(self, account: TikTokAccount) -> str:
        return _panel("token", state=verdicts_of(account).token, account=account)

    @admin.display(description=_("webhooks"))
    def webhook_panel(self, account: TikTokAccount) -> str:
        if account.pk is None:
            return "—"
        return _panel(
            "webhooks",
            account=account,
            health=selectors.webhook_health(account=account),
            cap=selectors.FAILURE_COUNT_CAP,
        )

    @admin.display(description=_("windows of recent clients"))
    def windows_panel(self, account: TikTokAccount) -> str:
        if account.pk is None:
            return "—"
        now = timezone.now()
        rows = []
        for conversation in selectors.recent_conversations(account=account):
            verdict = window.verdict(conversation, now=now)
            rows.append((conversation, verdict, window_text(verdict)))
        return _panel("windows", rows=rows)

    @admin.display(description=_("last 30 days"))
    def reachability_panel(self, account: TikTokAccount) -> str:
        if account.pk is None:
            return "—"
        return _panel("reachability", reach=reachability([account.pk]))

    @admin.display(description=_("messages per day"))
    def chart_panel(self, account: TikTokAccount) -> str:
        if account.pk is None:
            return "—"
        return _panel(
            "chart",
            chart=messages_chart(selectors.messages_per_day(channel_id=account.pk)),
            last=selectors.last_message_received_at(channel_id=account.pk),
        )

    @admin.display(description=_("open in lists"))
    def links_panel(self, account: TikTokAccount) -> str:
        if account.pk is None:
            return "—"
        messages_list, journal = "admin:clients_message_changelist", "admin:channels_tiktok_webhookevent_changelist"
        links = [
            (_list_url(messages_list, channel=account.pk), _("message log")),
            (_list_url(messages_list, channel=account.pk, status__exact="failed"), _("failed messages")),
            (_list_url(journal, account=account.pk), _("webhook journal")),
            (_list_url(journal, account=account.pk, status__exact="failed"), _("failed webhooks")),
            (_list_url("admin:clients_client_changelist", channel=account.pk), _("clients")),
        ]
        return _panel("links", links=links)

    def save_model(self, request: HttpRequest, obj: TikTokAccount, form: Any, change: bool) -> None:
        if "country" in form.changed_data:
            services.set_country(account=obj, country=form.cleaned_data["country"])

    # ------------------------------------------------------------------------------------ actions
    @admin.action(description=_("Refresh token now"))
    def refresh_token_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset:
            try:
                refresh_access_token(account)
            except AccountUnavailableError as error:
                self.message_user(request, f"{account}: {error.reason}", messages.ERROR)
            except TikTokError as error:
                self.message_user(request, f"{account}: {error}", messages.ERROR)
            else:
                self.message_user(request, _("%(account)s: token renewed.") % {"account": account}, messages.SUCCESS)

    @admin.action(description=_("Re-check permissions and profile from TikTok"))
    def recheck_from_tiktok(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset:
            try:
                verdict = services.recheck_account(account=account)
            except AccountUnavailableError as error:
                self.message_user(request, f"{account}: {error.reason}", messages.ERROR)
            except TikTokError as error:
                self.message_user(request, f"{account}: {error}", messages.ERROR)
            else:
                account.refresh_from_db()
                missing = ", ".join(verdict.missing_scopes) or _("none")
                self.message_user(
                    request,
                    _("%(account)s: re-checked; missing scopes: %(missing)s.")
                    % {"account": account, "missing": missing},
                    messages.SUCCESS if verdict.complete else messages.WARNING,
                )

    @admin.action(description=_("Subscribe webhooks"))
    def subscribe_webhooks(self, request: HttpRequest, queryset: QuerySet) -> None:
        # One subscription per app covers every account (§5); the selected accounts are stamped.
        result = {}
        for account in queryset:
            result = services.subscribe_webhooks(account=account, force=True)
        summary = ", ".join(f"{event_type}: {outcome}" for event_type, outcome in result.items())
        level = messages.ERROR if "failed" in result.values() else messages.SUCCESS
        self.message_user(request, _("Webhooks: %(summary)s.") % {"summary": summary}, level)

    @admin.action(description=_("Disconnect (revoke the token)"))
    def disconnect(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset:
            revoked = services.disconnect_account(account=account)
            text = (
                _("%(account)s: disconnected.")
                if revoked
                else _("%(account)s: disconnected; TikTok did not confirm the revocation.")
            )
            self.message_user(request, text % {"account": account}, messages.SUCCESS if revoked else messages.WARNING)
