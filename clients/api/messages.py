"""`/api/v1/clients/{id}/messages/`: the client's message log (newest first) and sending a message."""

from dataclasses import replace
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from clients.parsers import JSONParser

from ..channel_registry import OutgoingRequest, Queued, provider_for
from ..models import Client, Message
from ..permissions import ProjectScopedMixin
from .clients import project_clients
from .docs import error_responses
from .serializers import MessageSerializer, QueuedMessageSerializer, SendMessageSerializer, SentMessageSerializer

SEND_DESCRIPTION = _(
    "Sends one message to the client, synchronously (the bot's messages reach the client in the order it sent "
    "them): text; or text with 1-3 buttons of one kind (callback or url); or one image (JSON `image.url`, or a "
    "multipart upload named `image`). The message is checked against the channel's rules first (422 lists every "
    "violation), one message of the client's window is reserved (409 `window_closed` / `quota_exhausted`), then "
    "the channel is called (502 when it refuses or does not answer). Buttons are not shown on desktop TikTok. "
    "`share_post` shares one of the account's own posts instead (no text, image or buttons with it). "
    "`sender_actions` (`mark_read`, `typing`) are done first, in order, best effort, without a window slot. "
    "The answer's `window` tells the budget after the send: `messages_left`, `expires_at`, and `last_message` when "
    "this send took the window's last message. With `reserve_last` the send is refused (409 `last_slot_reserved`) "
    'rather than take the last message, unless it also says `last`. With `"when_closed": "queue"` a send to '
    "a closed or used-up window is accepted (202, `status: queued_for_next_window`) and sent, in order, when the "
    "client writes again, before the bot hears of that message (see `queued-messages`)."
)


@extend_schema(tags=["messages"])
class ClientMessagesView(ProjectScopedMixin, generics.ListCreateAPIView):
    serializer_class = MessageSerializer
    # No form-urlencoded: `curl -d '{...}'` sends JSON under that type, which would parse as one odd field.
    parser_classes = [JSONParser, MultiPartParser]

    def get_client(self) -> Client:
        return get_object_or_404(project_clients(self.project), pk=self.kwargs["pk"])

    def get_queryset(self) -> QuerySet[Message]:
        return Message.objects.filter(client=self.get_client())

    @extend_schema(responses={200: MessageSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"application/json": SendMessageSerializer, "multipart/form-data": SendMessageSerializer},
        responses={
            201: SentMessageSerializer,
            202: QueuedMessageSerializer,
            **error_responses(401, 404, 409, 422, 429, 502),
        },
        description=SEND_DESCRIPTION,
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = self.get_client()
        body = SendMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        image = body.validated_data["image"] or {}
        outgoing = OutgoingRequest(
            text=body.validated_data["text"],
            buttons=[dict(b) for b in body.validated_data["buttons"]],
            image_url=image.get("url", ""),
            image_file=image.get("file"),
            sender_actions=list(body.validated_data["sender_actions"]),
            share_post_id=(body.validated_data["share_post"] or {}).get("item_id", ""),
            reserve_last=body.validated_data["reserve_last"],
            last=body.validated_data["last"],
            text_fallback=body.validated_data["text_fallback"],
            when_closed=body.validated_data["when_closed"],
        )
        provider = provider_for(client.channel)
        message = provider.send_message(client=client, request=outgoing)
        if isinstance(message, Queued):
            return Response(message.body, status=status.HTTP_202_ACCEPTED)
        window = provider.window(client)
        if window is not None:
            window = replace(window, last_message=bool(getattr(message, "last_message", False)))
        message.window = window
        return Response(SentMessageSerializer(message).data, status=status.HTTP_201_CREATED)
