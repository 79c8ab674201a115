from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The local stand-in for TikTok, installed only by the dev, test and benchmark settings."""

    name = "channels_tiktok.sandbox"
    label = "tiktok_sandbox"
    verbose_name = "TikTok sandbox"
