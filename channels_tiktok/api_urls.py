"""The TikTok part of the bot builder's REST API (`/api/v1/`)."""

urlpatterns = []
