"""Admin for projects and channels; the projects' API keys are in api_keys.py."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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

    @admin.display(description=_("API keys"))
    def api_keys_links(self, project: Project) -> str:
        return api_key_links(project)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "name", "project", "created_at")
    list_filter = ("kind",)
    list_select_related = ("project",)
    search_fields = ("name",)
