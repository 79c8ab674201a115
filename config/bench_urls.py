"""The product's URLs plus what the webhook benchmark measures it against (see `config.settings.bench`): a bare
view, the naive durable receiver and django-anymail's tracking webhook (`benchmarks/peers.py`)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from benchmarks.peers import anymail_receiver, naive_receiver

from .urls import urlpatterns as product_urlpatterns


@csrf_exempt
@require_POST
def bare(request: HttpRequest) -> HttpResponse:
    """What any Django view costs on this server: read the body, answer 200. No database, no signature."""
    return HttpResponse(b'{"ok":true}' if request.body is not None else b"", content_type="application/json")


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("bench/naive/", naive_receiver, name="bench-naive"),
    path("bench/anymail/", anymail_receiver, name="bench-anymail"),
    *product_urlpatterns,
]
