"""Admin for projects, their API keys and channels."""

from django.contrib import admin

from ..models import ApiKey, Channel, Project


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "callback_url", "created_at")
    search_fields = ("name",)
    filter_horizontal = ("owners",)
    exclude = ("callback_secret",)
    inlines = [ApiKeyInline]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "name", "project", "created_at")
    list_filter = ("kind",)
    list_select_related = ("project",)
    search_fields = ("name",)
