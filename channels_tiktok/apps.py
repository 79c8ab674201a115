from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsTiktokConfig(AppConfig):
    name = "channels_tiktok"
    verbose_name = _("TikTok channel")
