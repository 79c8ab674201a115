"""The TikTok part of the bot builder's REST API (`/api/v1/`)."""

from django.urls import path

from channels_tiktok.api.accounts import AccountDetailView, AccountListView
from channels_tiktok.api.comments import CommentRepliesView
from channels_tiktok.api.queue import QueuedMessagesView, QueuedMessageView
from channels_tiktok.api.validate import ValidateMessageView

urlpatterns = [
    path("tiktok/accounts/", AccountListView.as_view(), name="api-tiktok-accounts"),
    path("tiktok/accounts/<int:pk>/", AccountDetailView.as_view(), name="api-tiktok-account"),
    path("clients/<int:pk>/comment-replies/", CommentRepliesView.as_view(), name="api-client-comment-replies"),
    path("clients/<int:pk>/queued-messages/", QueuedMessagesView.as_view(), name="api-client-queued-messages"),
    path(
        "clients/<int:pk>/queued-messages/<int:queued_id>/",
        QueuedMessageView.as_view(),
        name="api-client-queued-message",
    ),
    path("messages/validate/", ValidateMessageView.as_view(), name="api-messages-validate"),
]
