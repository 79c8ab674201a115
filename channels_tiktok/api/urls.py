"""The TikTok part of the bot builder's REST API (`/api/v1/`)."""

from django.urls import path

from channels_tiktok.api.accounts import AccountDetailView, AccountListView
from channels_tiktok.api.comment_dm import CommentDmView, CommentToMessageView
from channels_tiktok.api.comments import CommentRepliesView
from channels_tiktok.api.validate import ValidateMessageView

urlpatterns = [
    path("tiktok/accounts/", AccountListView.as_view(), name="api-tiktok-accounts"),
    path("tiktok/accounts/<int:pk>/", AccountDetailView.as_view(), name="api-tiktok-account"),
    path("clients/<int:pk>/comment-replies/", CommentRepliesView.as_view(), name="api-client-comment-replies"),
    path(
        "tiktok/accounts/<int:pk>/comment-to-message/",
        CommentToMessageView.as_view(),
        name="api-tiktok-account-comment-to-message",
    ),
    path("clients/<int:pk>/comment-dm/", CommentDmView.as_view(), name="api-client-comment-dm"),
    path("messages/validate/", ValidateMessageView.as_view(), name="api-messages-validate"),
]
