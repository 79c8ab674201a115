"""The bot builder's channel-agnostic REST API (`/api/v1/`)."""

urlpatterns = []
