"""Web pages and TikTok-facing endpoints: channels page, OAuth, webhook receiver."""

from django.urls import path

from .webhook_views import TikTokWebhookView

urlpatterns = [
    path("webhooks/tiktok/", TikTokWebhookView.as_view(), name="tiktok-webhook"),
]
