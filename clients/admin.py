from django.contrib import admin

from .models import ApiKey, BotEvent, Channel, Client, ClientVariable, DeliveryAttempt, Message, Project


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


class ClientVariableInline(admin.TabularInline):
    model = ClientVariable
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("id", "display_name", "username", "external_id", "channel", "last_message_at")
    list_select_related = ("channel",)
    search_fields = ("=external_id", "username", "display_name")
    raw_id_fields = ("channel",)
    inlines = [ClientVariableInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "direction", "kind", "source", "status", "error_code", "client", "channel")
    list_filter = ("direction", "status", "kind", "source")
    list_select_related = ("client", "channel")
    search_fields = ("=external_id",)
    raw_id_fields = ("client", "channel")
    show_full_result_count = False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "url", "response_status", "response_body", "error", "duration_ms")


@admin.register(BotEvent)
class BotEventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "project", "status", "attempts", "created_at", "delivered_at")
    list_filter = ("status", "type")
    list_select_related = ("project",)
    search_fields = ("=uuid",)
    raw_id_fields = ("project", "channel", "client")
    show_full_result_count = False
    inlines = [DeliveryAttemptInline]
