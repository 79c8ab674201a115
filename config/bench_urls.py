"""The product's URLs plus `/bench/bare/`: the baseline of the webhook benchmark (see `config.settings.bench`)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .urls import urlpatterns as product_urlpatterns


@csrf_exempt
@require_POST
def bare(request):
    """What any Django view costs on this server: read the body, answer 200. No database, no signature."""
    return HttpResponse(b'{"ok":true}' if request.body is not None else b"", content_type="application/json")


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *product_urlpatterns]
