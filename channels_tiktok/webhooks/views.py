"""`POST /webhooks/tiktok/`: verify, journal, answer 200 at once (B2). Processing runs in a task after commit.

A plain Django function view, not DRF's APIView nor a class-based view: the body is read raw (the signature
covers its exact bytes) and the answers are fixed JSON documents, so DRF's request wrapping, negotiation and
rendering, or a view instance per request, would be pure cost on the hottest path of the service (B10).
"""

import logging
import time

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from channels_tiktok import constants
from channels_tiktok.webhooks import journal, wire
from config.proxies import client_ip

logger = logging.getLogger(__name__)

OK = b'{"code":"ok"}'
# The header as WSGI names it: read from META, the request skips building `request.headers` for every delivery.
SIGNATURE_META = "HTTP_" + constants.SIGNATURE_HEADER.upper().replace("-", "_")


class BadSignatureThrottle(SimpleRateThrottle):
    """Counts failed verifications per client IP. Consulted only after a failure, so a valid delivery is never
    throttled, whatever the same address sent before."""

    scope = "webhook_bad_signature"

    def get_ident(self, request: HttpRequest) -> str:
        return client_ip(request)

    def get_cache_key(self, request: HttpRequest, view: APIView | None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _throttle_allows(throttle: BadSignatureThrottle, request: HttpRequest) -> bool:
    """The throttle's verdict; with its cache down it fails open: the rejection is still answered (never a 500),
    only uncounted. A valid delivery never reaches the throttle at all."""
    try:
        # DRF's throttle on a plain Django view: it reads only the request's META and takes no view.
        return throttle.allow_request(request, None)  # type: ignore[arg-type]
    except (redis.RedisError, OSError) as exc:  # the cache's Redis is down or unreachable
        logger.warning("tiktok.webhook.throttle_unavailable", extra={"error": type(exc).__name__})
        return True


@csrf_exempt  # TikTok signs its deliveries; it holds no CSRF token
@require_POST
def tiktok_webhook(request: HttpRequest) -> HttpResponse:
    body = request.body
    try:
        wire.verify_signature(
            body=body,
            header=request.META.get(SIGNATURE_META),
            secrets=settings.TIKTOK_APP_SECRET,
            tolerance=settings.TIKTOK_WEBHOOK_TOLERANCE_SECONDS,
            now=time.time(),
        )
    except wire.SignatureError as exc:
        throttle = BadSignatureThrottle()
        if not _throttle_allows(throttle, request):
            return JsonResponse({"code": "rate_limited"}, status=429)
        logger.warning("tiktok.webhook.rejected", extra={"reason": exc.reason, "ip": throttle.get_ident(request)})
        return JsonResponse({"code": exc.reason}, status=exc.status)
    journal.record_delivery(body=body, headers=journal.stored_headers(request.META))
    return HttpResponse(OK, content_type="application/json")
