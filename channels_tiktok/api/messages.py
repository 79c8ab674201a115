"""The send endpoint's TikTok part: the body parsed by `clients.api.messages` becomes a send, refusals become
the API's answers (422 violations, 409 state, 429 rate limit, 502 TikTok, 503 our own infrastructure)."""

from django.db import DatabaseError
from rest_framework import status
from rest_framework.exceptions import APIException

from channels_tiktok.messaging import queue, rules
from channels_tiktok.messaging import send as messaging
from channels_tiktok.messaging.outbound import (
    BlockedError,
    BusyError,
    OutboundError,
    RuleViolationsError,
    SendRateLimitedError,
    ServiceUnavailableError,
    UpstreamError,
)
from channels_tiktok.messaging.send import NOT_SENT_DATABASE
from clients.api.serializers import QueuedMessageSerializer
from clients.api_errors import ApiError, ViolationsError
from clients.channel_registry import OutgoingRequest, Queued
from clients.models import Client, Message, Project


def as_api_error(exc: OutboundError) -> APIException:
    if isinstance(exc, RuleViolationsError):
        return ViolationsError([v.as_dict() for v in exc.violations])
    if isinstance(exc, BlockedError):
        return ApiError(code=exc.code, message=exc.message, status_code=status.HTTP_409_CONFLICT)
    if isinstance(exc, SendRateLimitedError | BusyError):
        return ApiError(
            code=exc.code,
            message=exc.message,
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            retry_after=exc.retry_after,
        )
    if isinstance(exc, ServiceUnavailableError):
        return ApiError(code=exc.code, message=exc.message, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, UpstreamError):
        return ApiError(
            code=exc.code,
            message=exc.message,
            status_code=status.HTTP_502_BAD_GATEWAY,
            tiktok_code=exc.tiktok_code,
            log_id=exc.log_id,
        )
    return ApiError(code=exc.code, message=exc.message, status_code=status.HTTP_409_CONFLICT)


def buttons_of(request: OutgoingRequest) -> list[rules.Button]:
    return [rules.Button(type=b["type"], text=b["text"], url=b.get("url") or "") for b in request.buttons]


def image_of(request: OutgoingRequest) -> messaging.ImageSource | None:
    if request.image_file is None and not request.image_url:
        return None
    return messaging.ImageSource(url=request.image_url, upload=request.image_file)


def fallback_wanted(project: Project, request: OutgoingRequest) -> bool:
    """The send's `text_fallback`, else the project's setting."""
    return project.button_text_fallback if request.text_fallback is None else request.text_fallback


QUEUE_CODES = {
    "queue_needs_image_url": "A message kept for the next window can carry an image only as a URL, not an upload.",
}


def _queue(client: Client, request: OutgoingRequest) -> Queued:
    if request.image_file is not None:
        code = "queue_needs_image_url"
        raise ApiError(code=code, message=QUEUE_CODES[code], status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)
    queued = queue.enqueue(
        client=client,
        text=request.text,
        buttons=buttons_of(request),
        image_url=request.image_url,
        text_fallback=fallback_wanted(client.channel.project, request),
    )
    return Queued(body=QueuedMessageSerializer(queued).data)


def send_from_api(*, client: Client, request: OutgoingRequest) -> Message | Queued:
    queueing = request.when_closed == queue.QUEUE
    if queueing and queue.should_queue(client):
        return _queue(client, request)
    try:
        return messaging.send_message(
            client=client,
            text=request.text,
            buttons=buttons_of(request),
            image=image_of(request),
            sender_actions=request.sender_actions,
            share_post=request.share_post_id,
            reserve_last=request.reserve_last,
            last=request.last,
            text_fallback=fallback_wanted(client.channel.project, request),
        )
    except BlockedError as exc:
        if queueing and exc.code in ("window_closed", "quota_exhausted"):
            return _queue(client, request)  # the window ran out between the look and the reservation
        raise as_api_error(exc) from exc
    except OutboundError as exc:
        raise as_api_error(exc) from exc
    except DatabaseError as exc:  # before anything was reserved or sent (the send maps the later ones itself)
        raise as_api_error(ServiceUnavailableError("database_unavailable", NOT_SENT_DATABASE)) from exc
