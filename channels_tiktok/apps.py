from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsTiktokConfig(AppConfig):
    name = "channels_tiktok"
    verbose_name = _("TikTok channel")

    def ready(self) -> None:
        from channels_tiktok.messaging.provider import TikTokProvider, document_error_codes
        from channels_tiktok.webhooks import checks  # noqa: F401 - registers the system checks
        from clients.channel_registry import register
        from clients.models import Channel

        register(Channel.Kind.TIKTOK, TikTokProvider())
        document_error_codes()
