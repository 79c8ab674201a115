from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .health import healthz

# The product's own pages and TikTok's webhook first: URLs are tried in order, and the webhook is the busiest.
urlpatterns = [
    path("", include("channels_tiktok.urls")),
    # The front door: the owner's channels page (which asks for the login first).
    path("", RedirectView.as_view(pattern_name="channels"), name="home"),
    path("", include("clients.owner.urls")),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("clients.api_urls")),
    path("api/v1/", include("channels_tiktok.api.urls")),
]
