"""The bot builder's channel-agnostic REST API (`/api/v1/`)."""

from django.urls import path

from .api.clients import ClientDetailView, ClientListView, ClientWindowView
from .api.events import EventFeedView
from .api.messages import ClientMessagesView
from .api.variables import VariableDetailView, VariablesView

urlpatterns = [
    path("clients/", ClientListView.as_view(), name="api-clients"),
    path("clients/<int:pk>/", ClientDetailView.as_view(), name="api-client"),
    path("clients/<int:pk>/variables/", VariablesView.as_view(), name="api-client-variables"),
    path("clients/<int:pk>/variables/<str:key>/", VariableDetailView.as_view(), name="api-client-variable"),
    path("clients/<int:pk>/window/", ClientWindowView.as_view(), name="api-client-window"),
    path("clients/<int:pk>/messages/", ClientMessagesView.as_view(), name="api-client-messages"),
    path("events/", EventFeedView.as_view(), name="api-events"),
]
