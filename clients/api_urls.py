"""The bot builder's channel-agnostic REST API (`/api/v1/`)."""

from django.urls import path

from .api.events import EventFeedView

urlpatterns = [
    path("events/", EventFeedView.as_view(), name="api-events"),
]
