"""The TikTok part of the bot builder's REST API (`/api/v1/`)."""

from django.urls import path

from .api.accounts import AccountDetailView, AccountListView

urlpatterns = [
    path("tiktok/accounts/", AccountListView.as_view(), name="api-tiktok-accounts"),
    path("tiktok/accounts/<int:pk>/", AccountDetailView.as_view(), name="api-tiktok-account"),
]
