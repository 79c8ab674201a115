"""Admin for projects and channels; the projects' API keys are in api_keys.py."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..callbacks import new_callback_secret
from ..models import Channel, Project
from .api_keys import ApiKeyInline, api_key_links


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "callback_url", "created_at")
    search_fields = ("name",)
    filter_horizontal = ("owners",)
    exclude = ("callback_secret",)
    readonly_fields = ("api_keys_links",)
    inlines = [ApiKeyInline]

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.callback_url and not obj.callback_secret:
            # Never unsigned: the owner sees a new secret on their page ("New signing secret"); staff never do.
            new_callback_secret(project=obj)

    @admin.display(description=_("API keys"))
    def api_keys_links(self, project: Project) -> str:
        return api_key_links(project)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "name", "project", "created_at")
    list_filter = ("kind",)
    list_select_related = ("project",)
    search_fields = ("name",)
