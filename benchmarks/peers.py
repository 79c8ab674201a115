"""The receivers people would write instead of ours, measured beside it on the same gunicorn (bench settings only).

- `naive_receiver`: what a Django developer writes for a durable webhook: verify the signature, parse, one
  `Model.objects.create` of the journal row in autocommit (a duplicate caught by the unique key), answer 200.
  It uses the product's own signature check, parser and dedupe key, so the two differ only in how the row is
  written.
- `anymail_receiver`: django-anymail's Mailgun tracking webhook, a widely used receiver that verifies and parses
  but stores nothing: the price of persistence is the difference.
"""

from __future__ import annotations

import contextlib
import time

from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from django.conf import settings
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_tiktok import constants
from channels_tiktok.models import WebhookEvent
from channels_tiktok.webhooks import wire

from .payloads import MAILGUN_SIGNING_KEY


@csrf_exempt
@require_POST
def naive_receiver(request: HttpRequest) -> HttpResponse:
    body = request.body
    try:
        wire.verify_signature(
            body=body,
            header=request.headers.get(constants.SIGNATURE_HEADER),
            secrets=settings.TIKTOK_APP_SECRET,
            tolerance=settings.TIKTOK_WEBHOOK_TOLERANCE_SECONDS,
            now=time.time(),
        )
        envelope = wire.parse_envelope(body)
    except (wire.SignatureError, wire.MalformedPayloadError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    with contextlib.suppress(IntegrityError):  # TikTok delivered it again: already stored
        WebhookEvent.objects.create(
            event=envelope.event,
            business_id=envelope.business_id,
            dedupe_key=wire.dedupe_key(envelope),
            raw_body=body.decode(),
        )
    return HttpResponse(b'{"ok":true}', content_type="application/json")


anymail_receiver = MailgunTrackingWebhookView.as_view(webhook_signing_key=MAILGUN_SIGNING_KEY)
