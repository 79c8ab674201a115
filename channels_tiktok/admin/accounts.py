"""Admin for connected accounts (D3): permissions and regional panels, token state, operations.

Tokens are never shown, not even encrypted: the form excludes them and the panels only say how they stand.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channels_tiktok import constants
from channels_tiktok.accounts import selectors, services
from channels_tiktok.accounts.countries import country_choices
from channels_tiktok.accounts.tokens import AccountUnavailableError, refresh_access_token
from channels_tiktok.accounts.verdicts import permissions_verdict, region_verdict, token_state
from channels_tiktok.admin.auto_messages import AutoMessagesAdminMixin
from channels_tiktok.admin.chart import messages_chart
from channels_tiktok.messaging import window
from channels_tiktok.models import GrantedScope, TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from channels_tiktok.tiktok.oauth import requested_scopes


class TikTokAccountForm(forms.ModelForm):
    country = forms.ChoiceField(
        label=_("registered country"),
        required=False,
        choices=lambda: [("", "—"), *country_choices()],
        help_text=_("Stated by the owner when connecting; correct it here if it is wrong (R4)."),
    )

    class Meta:
        model = TikTokAccount
        fields = ("country",)


class RegionAvailabilityFilter(admin.SimpleListFilter):
    title = _("region availability")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        return [("available", _("available")), ("unavailable", _("unavailable")), ("unknown", _("unknown"))]

    def queryset(self, request, queryset):
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

    def lookups(self, request, model_admin):
        return [("any", _("any scope missing")), *[(scope, scope) for scope in requested_scopes()]]

    def queryset(self, request, queryset):
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


def _badge(ok: bool | None, yes: str, no: str, unknown: str):
    color, text = ("#1e7e34", yes) if ok else (("#8a6100", unknown) if ok is None else ("#b00020", no))
    return format_html('<strong style="color:{}">{}</strong>', color, text)


def _when(value) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "—"


def _list_link(view: str, label: str, **params) -> str:
    return format_html('<a href="{}?{}">{}</a>', reverse(view), urlencode(params), label)


@admin.register(TikTokAccount)
class TikTokAccountAdmin(AutoMessagesAdminMixin, admin.ModelAdmin):
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
        "connected_by",
        "connected_at",
        "updated_at",
        "webhooks_subscribed_at",
        "last_webhook_at",
    )
    fieldsets = (
        (None, {"fields": ("channel", "business_id", "username", "display_name", "is_business_account")}),
        (_("Status"), {"fields": ("status", "status_reason", "token_panel")}),
        (_("Permissions (R3)"), {"fields": ("permissions_panel",)}),
        (_("Region (R4)"), {"fields": ("country", "region_panel")}),
        (_("Webhooks"), {"fields": ("webhook_panel",)}),
        (_("Automatic messages"), {"fields": ("auto_messages_panel",)}),
        (_("Messages"), {"fields": ("chart_panel", "windows_panel", "links_panel")}),
        (
            _("History"),
            {"fields": ("connected_by", "connected_at", "updated_at", "webhooks_subscribed_at", "last_webhook_at")},
        ),
    )
    actions = ("refresh_token_now", "recheck_from_tiktok", "refresh_auto_messages", "subscribe_webhooks", "disconnect")
    change_form_template = "admin/channels_tiktok/tiktokaccount/change_form.html"

    def get_urls(self):
        # The same actions as buttons on each account's page: POST runs one on this account only.
        operation = self.admin_site.admin_view(self.run_operation)
        return [
            path("<path:object_id>/operation/<str:name>/", operation, name="channels_tiktok_tiktokaccount_operation"),
            *super().get_urls(),
        ]

    def run_operation(self, request, object_id, name):
        if request.method != "POST" or name not in self.actions:
            return HttpResponseNotAllowed(["POST"])
        account = self.get_object(request, object_id)
        if account is None or not self.has_change_permission(request, account):
            raise Http404
        getattr(self, name)(request, self.get_queryset(request).filter(pk=account.pk))
        return redirect("admin:channels_tiktok_tiktokaccount_change", account.pk)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["operations"] = [(name, getattr(self, name).short_description) for name in self.actions]
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("scopes")

    def has_add_permission(self, request):
        return False  # accounts are connected by their owners through OAuth

    def get_search_results(self, request, queryset, search_term):
        """Names as usual, plus any id a ticket may quote: each is an exact, indexed lookup (see selectors)."""
        term = search_term.strip().removeprefix("@")
        found, may_have_duplicates = super().get_search_results(request, queryset, term)
        ids = selectors.account_ids_for_id(search_term)
        if ids:
            found = found | queryset.filter(pk__in=ids)
        return found, may_have_duplicates

    # ------------------------------------------------------------------------------------ columns
    @admin.display(description=_("project"), ordering="channel__project__name")
    def project(self, account):
        return account.channel.project

    @admin.display(description=_("messaging in region"))
    def region_column(self, account):
        verdict = region_verdict(account.country)
        return _badge(verdict.available, _("available"), _("unavailable"), _("unknown"))

    @admin.display(description=_("missing scopes"))
    def missing_column(self, account):
        verdict = permissions_verdict([s.scope for s in account.scopes.all()], needed=requested_scopes())
        return ", ".join(verdict.missing_scopes) or "—"

    # ------------------------------------------------------------------------------------ panels
    @admin.display(description=_("permissions"))
    def permissions_panel(self, account):
        verdict = permissions_verdict([s.scope for s in account.scopes.all()], needed=requested_scopes())
        missing = {item.scope: item for item in verdict.missing}
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    scope,
                    _badge(scope not in missing, _("granted"), _("missing"), ""),
                    constants.SCOPE_FEATURES.get(scope, ""),
                    missing[scope].fix if scope in missing else "",
                )
                for scope in verdict.needed
            ),
        )
        summary = (
            _badge(True, _("All needed scopes are granted."), "", "")
            if verdict.complete
            else _badge(
                False,
                "",
                _("Messaging scopes are missing: the channel cannot work.")
                if verdict.blocking
                else _("Some scopes are missing: the features listed below do not work."),
                "",
            )
        )
        return format_html(
            '<div class="permissions-panel"><p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "</tr></thead><tbody>{}</tbody></table></div>",
            summary,
            _("scope"),
            _("state"),
            _("what it is needed for"),
            _("fix"),
            rows,
        )

    @admin.display(description=_("region"))
    def region_panel(self, account):
        verdict = region_verdict(account.country)
        return format_html(
            '<div class="region-panel"><p>{}: <strong>{}</strong> ({})</p><p>{}: {}</p><p>{}</p><p>{}</p></div>',
            _("Registered country"),
            verdict.country_name or "—",
            verdict.country or "—",
            _("Group"),
            verdict.region_name or _("not in TikTok's table"),
            _badge(verdict.available, _("Messaging available"), _("Messaging unavailable"), _("Availability unknown")),
            format_html("{}<br>{}", verdict.explanation, verdict.users_note),
        )

    @admin.display(description=_("token"))
    def token_panel(self, account):
        state = token_state(
            status=account.status,
            access_expires_at=account.access_token_expires_at,
            refresh_expires_at=account.refresh_token_expires_at,
            now=timezone.now(),
        )
        return format_html(
            '<div class="token-panel"><p><strong>{}</strong></p><p>{}: {}<br>{}: {}<br>{}: {}</p></div>',
            state.label,
            _("access token expires"),
            _when(account.access_token_expires_at),
            _("refresh token expires"),
            _when(account.refresh_token_expires_at),
            _("last renewed"),
            _when(account.token_refreshed_at),
        )

    @admin.display(description=_("webhooks"))
    def webhook_panel(self, account):
        if account.pk is None:
            return "—"
        health = selectors.webhook_health(account=account)
        if health.failures_24h >= selectors.FAILURE_COUNT_CAP:
            failures = _("%(count)d or more") % {"count": selectors.FAILURE_COUNT_CAP}
        else:
            failures = str(health.failures_24h)
        if health.last_received_at is None:
            verdict = _badge(False, "", _("No webhook was ever received for this account."), "")
        elif health.failures_24h:
            verdict = _badge(False, "", _("Webhooks arrive, but some failed to process: replay them."), "")
        else:
            verdict = _badge(True, _("Webhooks arrive and are processed."), "", "")
        last_failure = "—"
        if health.last_failure is not None:
            last_failure = format_html(
                '<a href="{}">#{}</a> {} · {} · {}',
                reverse("admin:channels_tiktok_webhookevent_change", args=[health.last_failure.pk]),
                health.last_failure.pk,
                _when(health.last_failure.received_at),
                health.last_failure.event or "?",
                health.last_failure.error[:200],
            )
        return format_html(
            '<div class="webhook-panel"><p>{}</p><p>{}: {}<br>{}: {}<br>{}: <span class="failures-24h">{}</span>'
            "<br>{}: {}</p></div>",
            verdict,
            _("subscribed"),
            _when(account.webhooks_subscribed_at),
            _("last webhook received"),
            _when(health.last_received_at),
            _("failed to process in the last 24 hours"),
            failures,
            _("last failure"),
            last_failure,
        )

    @admin.display(description=_("windows of recent clients"))
    def windows_panel(self, account):
        if account.pk is None:
            return "—"
        now = timezone.now()
        conversations = selectors.recent_conversations(account=account)
        if not conversations:
            return format_html('<div class="windows-panel"><p>{}</p></div>', _("No client has written yet (R5)."))
        rows = []
        for conversation in conversations:
            state = window.state(conversation, now=now)
            if state.open:
                verdict = _badge(
                    True,
                    ngettext(
                        "open: %(left)d message left",
                        "open: %(left)d messages left",
                        state.messages_left,
                    )
                    % {"left": state.messages_left},
                    "",
                    "",
                )
            elif state.expires_at and state.expires_at > now:
                verdict = _badge(False, "", _("quota used up: wait for the client to write"), "")
            else:
                verdict = _badge(False, "", _("closed: 48 hours passed since the client wrote"), "")
            rows.append(
                (
                    reverse("admin:clients_client_change", args=[conversation.client_id]),
                    str(conversation.client),
                    conversation.conversation_id,
                    _when(conversation.last_inbound_at),
                    verdict,
                    _when(state.expires_at),
                )
            )
        return format_html(
            '<div class="windows-panel"><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "</tr></thead><tbody>{}</tbody></table></div>",
            _("client"),
            _("conversation id"),
            _("client wrote"),
            _("window"),
            _("window ends"),
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>',
                rows,
            ),
        )

    @admin.display(description=_("messages per day"))
    def chart_panel(self, account):
        if account.pk is None:
            return "—"
        last = selectors.last_message_received_at(channel_id=account.pk)
        return format_html(
            '<div class="chart-panel">{}<p>{}: {}</p></div>',
            messages_chart(selectors.messages_per_day(channel_id=account.pk)),
            _("last message received"),
            _when(last),
        )

    @admin.display(description=_("open in lists"))
    def links_panel(self, account):
        if account.pk is None:
            return "—"
        return format_html(
            '<div class="links-panel">{} · {} · {} · {} · {}</div>',
            _list_link("admin:clients_message_changelist", _("message log"), channel=account.pk),
            _list_link(
                "admin:clients_message_changelist", _("failed messages"), channel=account.pk, status__exact="failed"
            ),
            _list_link("admin:channels_tiktok_webhookevent_changelist", _("webhook journal"), account=account.pk),
            _list_link(
                "admin:channels_tiktok_webhookevent_changelist",
                _("failed webhooks"),
                account=account.pk,
                status__exact="failed",
            ),
            _list_link("admin:clients_client_changelist", _("clients"), channel=account.pk),
        )

    def save_model(self, request, obj, form, change):
        if "country" in form.changed_data:
            services.set_country(account=obj, country=form.cleaned_data["country"])

    # ------------------------------------------------------------------------------------ actions
    @admin.action(description=_("Refresh token now"))
    def refresh_token_now(self, request, queryset):
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
    def recheck_from_tiktok(self, request, queryset):
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
    def subscribe_webhooks(self, request, queryset):
        # One subscription per app covers every account (§5); the selected accounts are stamped.
        result = {}
        for account in queryset:
            result = services.subscribe_webhooks(account=account, force=True)
        summary = ", ".join(f"{event_type}: {outcome}" for event_type, outcome in result.items())
        level = messages.ERROR if "failed" in result.values() else messages.SUCCESS
        self.message_user(request, _("Webhooks: %(summary)s.") % {"summary": summary}, level)

    @admin.action(description=_("Disconnect (revoke the token)"))
    def disconnect(self, request, queryset):
        for account in queryset:
            revoked = services.disconnect_account(account=account)
            text = (
                _("%(account)s: disconnected.")
                if revoked
                else _("%(account)s: disconnected; TikTok did not confirm the revocation.")
            )
            self.message_user(request, text % {"account": account}, messages.SUCCESS if revoked else messages.WARNING)
