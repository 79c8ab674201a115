"""`POST /webhooks/tiktok/`: verify, journal, answer 200 at once (B2). Processing runs in a task after commit."""

import logging
import time

from django.conf import settings
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from . import constants, journal, webhooks

logger = logging.getLogger(__name__)


class BadSignatureThrottle(SimpleRateThrottle):
    """Counts failed verifications per client IP. Consulted only after a failure, so a valid delivery is never
    throttled, whatever the same address sent before."""

    scope = "webhook_bad_signature"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TikTokWebhookView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    # The body is read raw (the signature covers its exact bytes); DRF never parses it.
    parser_classes = []
    schema = None  # TikTok's endpoint, not part of the bot builder's API docs

    def post(self, request):
        body = request.body
        try:
            webhooks.verify_signature(
                body=body,
                header=request.headers.get(constants.SIGNATURE_HEADER),
                secrets=settings.TIKTOK_APP_SECRET,
                tolerance=settings.TIKTOK_WEBHOOK_TOLERANCE_SECONDS,
                now=time.time(),
            )
        except webhooks.SignatureError as exc:
            throttle = BadSignatureThrottle()
            if not throttle.allow_request(request, self):
                return Response({"code": "rate_limited"}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            logger.warning("tiktok.webhook.rejected", extra={"reason": exc.reason, "ip": throttle.get_ident(request)})
            return Response({"code": exc.reason}, status=exc.status)
        journal.record_delivery(body=body, headers=request.headers)
        return Response({"code": "ok"})
