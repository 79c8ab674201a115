"""Admin for connected accounts (D3): permissions and regional panels, token state, operations.

Tokens are never shown, not even encrypted: the form excludes them and the panels only say how they stand.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .. import accounts, constants
from ..client import TikTokError
from ..countries import country_choices
from ..models import GrantedScope, TikTokAccount
from ..oauth import requested_scopes
from ..tokens import AccountUnavailableError, refresh_access_token
from ..verdicts import permissions_verdict, region_verdict, token_state


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


def _has_scope(scope: str) -> Exists:
    return Exists(GrantedScope.objects.filter(account=OuterRef("pk"), scope=scope))


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
            scopes = requested_scopes()
            granted_all = queryset
            for scope in scopes:
                granted_all = granted_all.filter(
                    Exists(GrantedScope.objects.filter(account=OuterRef("pk"), scope=scope))
                )
            return queryset.exclude(pk__in=granted_all.values("pk"))
        return queryset.exclude(Exists(GrantedScope.objects.filter(account=OuterRef("pk"), scope=value)))


def _badge(ok: bool | None, yes: str, no: str, unknown: str):
    color, text = ("#1e7e34", yes) if ok else (("#8a6100", unknown) if ok is None else ("#b00020", no))
    return format_html('<strong style="color:{}">{}</strong>', color, text)


@admin.register(TikTokAccount)
class TikTokAccountAdmin(admin.ModelAdmin):
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
        (
            _("History"),
            {"fields": ("connected_by", "connected_at", "updated_at", "webhooks_subscribed_at", "last_webhook_at")},
        ),
    )
    actions = ("refresh_token_now", "recheck_from_tiktok", "subscribe_webhooks", "disconnect")
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
            account.access_token_expires_at or "—",
            _("refresh token expires"),
            account.refresh_token_expires_at or "—",
            _("last renewed"),
            account.token_refreshed_at or "—",
        )

    def save_model(self, request, obj, form, change):
        if "country" in form.changed_data:
            accounts.set_country(account=obj, country=form.cleaned_data["country"])

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
                verdict = accounts.recheck_account(account=account)
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
            result = accounts.subscribe_webhooks(account=account, force=True)
        summary = ", ".join(f"{event_type}: {outcome}" for event_type, outcome in result.items())
        level = messages.ERROR if "failed" in result.values() else messages.SUCCESS
        self.message_user(request, _("Webhooks: %(summary)s.") % {"summary": summary}, level)

    @admin.action(description=_("Disconnect (revoke the token)"))
    def disconnect(self, request, queryset):
        for account in queryset:
            revoked = accounts.disconnect_account(account=account)
            text = (
                _("%(account)s: disconnected.")
                if revoked
                else _("%(account)s: disconnected; TikTok did not confirm the revocation.")
            )
            self.message_user(request, text % {"account": account}, messages.SUCCESS if revoked else messages.WARNING)
