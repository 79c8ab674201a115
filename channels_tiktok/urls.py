"""Web pages and TikTok-facing endpoints: channels page, OAuth, webhook receiver."""

from django.urls import path

from channels_tiktok.accounts import auto_views, engagement_views, views
from channels_tiktok.webhooks.media_view import media_file
from channels_tiktok.webhooks.views import tiktok_webhook

urlpatterns = [
    # First: TikTok's deliveries are most of the requests this service serves.
    path("webhooks/tiktok/", tiktok_webhook, name="tiktok-webhook"),
    path("media/tiktok/<str:token>/", media_file, name="tiktok-media"),
    path("channels/", views.channels, name="channels"),
    path("tiktok/connect/", views.connect, name="tiktok-connect"),
    path("tiktok/oauth/callback/", views.oauth_callback, name="tiktok-oauth-callback"),
    path("tiktok/accounts/<int:pk>/disconnect/", views.disconnect, name="tiktok-disconnect"),
    path("tiktok/accounts/<int:pk>/auto-messages/", auto_views.auto_messages_page, name="tiktok-auto-messages"),
    path(
        "tiktok/accounts/<int:pk>/comment-to-message/",
        engagement_views.comment_to_message,
        name="tiktok-comment-to-message",
    ),
]
