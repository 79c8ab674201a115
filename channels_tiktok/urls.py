"""Web pages and TikTok-facing endpoints: channels page, OAuth, webhook receiver."""

urlpatterns = []
