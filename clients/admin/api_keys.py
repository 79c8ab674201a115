"""API keys in the admin: a list with revoke, and an add page that creates through the service and shows the
full key once. Nothing here can save a key without its secret (the old inline could)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from clients import api_keys as keys
from clients.models import ApiKey, Project


class ApiKeyAddForm(forms.Form):
    project = forms.ModelChoiceField(label=_("project"), queryset=Project.objects.order_by("name"))
    name = forms.CharField(
        label=_("name"),
        max_length=keys.NAME_MAX_LENGTH,
        help_text=_("What uses this key, e.g. “bot builder, production”."),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix_display", "project", "created_at", "last_used_at", "state")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "project")
    list_select_related = ("project",)
    search_fields = ("name", "prefix", "project__name")
    fields = ("project", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("project", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_keys"]
    ordering = ("-created_at",)

    @admin.display(description=_("prefix"), ordering="prefix")
    def prefix_display(self, key: ApiKey) -> str:
        return f"{key.prefix}…"

    @admin.display(description=_("state"), ordering="revoked_at")
    def state(self, key: ApiKey) -> StrOrPromise:
        return _("revoked") if key.revoked_at else _("active")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoke instead: the row stays as the record of what had access.
        return False

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = sum(keys.revoke_api_key(key=key) for key in queryset)
        self.message_user(
            request,
            ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyAddForm(request.POST or None, initial={"project": request.GET.get("project")})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Create an API key"),
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            key, secret = keys.create_api_key(project=form.cleaned_data["project"], name=form.cleaned_data["name"])
            self.log_addition(request, key, [{"added": {}}])
            context |= {
                "title": _("API key created"),
                "key": key,
                "secret": secret,
                "project_url": reverse("admin:clients_project_change", args=[key.project_id]),
            }
            response = TemplateResponse(request, "admin/clients/apikey/created.html", context)
            response["Cache-Control"] = "no-store"  # the full key is in this page only
            return response
        return TemplateResponse(request, "admin/clients/apikey/add.html", context)


class ApiKeyInline(admin.TabularInline):
    """The project's keys, read-only: they are made on the add page (secret shown once) and revoked there too."""

    model = ApiKey
    extra = 0
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at", "open")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="")
    def open(self, key: ApiKey) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:clients_apikey_change", args=[key.pk]), _("open"))


def api_key_links(project: Project) -> str:
    """Links under a project's keys: create one (the secret shown once), see them all."""
    if not project.pk:
        return "—"
    return format_html(
        '<a class="addlink" href="{}?project={}">{}</a> &nbsp; <a href="{}?project__id__exact={}">{}</a>',
        reverse("admin:clients_apikey_add"),
        project.pk,
        _("Create an API key"),
        reverse("admin:clients_apikey_changelist"),
        project.pk,
        _("All keys of this project"),
    )
