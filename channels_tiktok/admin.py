from django.contrib import admin

from .models import Conversation, GrantedScope, TikTokAccount, WebhookEvent


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


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("conversation_id", "client", "account", "last_inbound_at", "window_sent", "image_send_allowed")
    list_select_related = ("client", "account")
    search_fields = ("=conversation_id",)
    raw_id_fields = ("client", "account")


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "received_at", "event", "business_id", "status", "attempts")
    list_filter = ("status", "event")
    search_fields = ("=business_id", "=conversation_id", "=comment_id", "=dedupe_key")
    raw_id_fields = ("account",)
    show_full_result_count = False
