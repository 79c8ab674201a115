"""Admin for connected accounts: permissions, region, tokens (D3)."""

from django.contrib import admin

from ..models import GrantedScope, TikTokAccount


class GrantedScopeInline(admin.TabularInline):
    model = GrantedScope
    extra = 0
    readonly_fields = ("scope", "granted_at")


@admin.register(TikTokAccount)
class TikTokAccountAdmin(admin.ModelAdmin):
    list_display = ("__str__", "business_id", "status", "country", "is_business_account", "access_token_expires_at")
    list_filter = ("status", "is_business_account")
    search_fields = ("username", "=business_id", "display_name")
    exclude = ("access_token", "refresh_token")
    readonly_fields = ("channel", "business_id", "connected_at", "updated_at")
    inlines = [GrantedScopeInline]
