from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from .health import healthz


class FaviconView(RedirectView):
    """Browsers ask every site for /favicon.ico; the answer is our icon among the static files."""

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        return static("site/favicon.svg")


# The product's own pages and TikTok's webhook first: URLs are tried in order, and the webhook is the busiest.
urlpatterns = [
    path("", include("channels_tiktok.urls")),
    # The front door: the owner's channels page (which asks for the login first).
    path("", RedirectView.as_view(pattern_name="channels"), name="home"),
    path("", include("clients.owner.urls")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Both served with the product's own copies of Swagger UI and ReDoc, and no inline script (the CSP forbids it).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs/swagger_ui.html"),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        # ReDoc writes its styles into <style> elements as its bundle loads, before any nonce could reach it:
        # this page alone allows inline styles (never inline scripts).
        csp_replace({"style-src": [SELF, UNSAFE_INLINE]})(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api_docs/redoc.html")
        ),
        name="api-redoc",
    ),
    path("api/v1/", include("clients.api_urls")),
    path("api/v1/", include("channels_tiktok.api.urls")),
]
