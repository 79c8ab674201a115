from django.contrib.auth import views as auth_views
from django.urls import path

from clients.owner import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views.revoke_api_key, name="api-key-revoke"),
    path("bot-events/<int:project_id>/callback/", views.set_callback, name="bot-callback"),
    path("bot-events/<int:project_id>/secret/", views.new_callback_secret, name="bot-callback-secret"),
]
