"""The TikTok part of the bot builder's REST API (`/api/v1/`)."""

from django.urls import path

from channels_tiktok.api.accounts import AccountDetailView, AccountListView
from channels_tiktok.api.actions import SenderActionsView
from channels_tiktok.api.auto_messages import AutoMessagesRefreshView, AutoMessagesView
from channels_tiktok.api.comment_dm import CommentDmView, CommentToMessageView
from channels_tiktok.api.comments import CommentActionsView, CommentRepliesView
from channels_tiktok.api.queue import QueuedMessagesView, QueuedMessageView
from channels_tiktok.api.validate import ValidateMessageView
from channels_tiktok.api.videos import AccountVideosView

urlpatterns = [
    path("tiktok/accounts/", AccountListView.as_view(), name="api-tiktok-accounts"),
    path("tiktok/accounts/<int:pk>/", AccountDetailView.as_view(), name="api-tiktok-account"),
    path("tiktok/accounts/<int:pk>/videos/", AccountVideosView.as_view(), name="api-tiktok-account-videos"),
    path("tiktok/accounts/<int:pk>/auto-messages/", AutoMessagesView.as_view(), name="api-tiktok-auto-messages"),
    path(
        "tiktok/accounts/<int:pk>/auto-messages/refresh/",
        AutoMessagesRefreshView.as_view(),
        name="api-tiktok-auto-messages-refresh",
    ),
    path(
        "tiktok/accounts/<int:pk>/comments/<str:comment_id>/actions/",
        CommentActionsView.as_view(),
        name="api-tiktok-comment-actions",
    ),
    path("clients/<int:pk>/comment-replies/", CommentRepliesView.as_view(), name="api-client-comment-replies"),
    path("clients/<int:pk>/actions/", SenderActionsView.as_view(), name="api-client-actions"),
    path(
        "tiktok/accounts/<int:pk>/comment-to-message/",
        CommentToMessageView.as_view(),
        name="api-tiktok-account-comment-to-message",
    ),
    path("clients/<int:pk>/comment-dm/", CommentDmView.as_view(), name="api-client-comment-dm"),
    path("clients/<int:pk>/queued-messages/", QueuedMessagesView.as_view(), name="api-client-queued-messages"),
    path(
        "clients/<int:pk>/queued-messages/<int:queued_id>/",
        QueuedMessageView.as_view(),
        name="api-client-queued-message",
    ),
    path("messages/validate/", ValidateMessageView.as_view(), name="api-messages-validate"),
]
