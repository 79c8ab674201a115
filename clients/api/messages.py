"""`/api/v1/clients/{id}/messages/`: the client's message log (newest first) and sending a message."""

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from clients.parsers import JSONParser

from ..channel_registry import OutgoingRequest, provider_for
from ..models import Message
from ..permissions import ProjectScopedMixin
from .clients import project_clients
from .docs import error_responses
from .serializers import MessageSerializer, SendMessageSerializer

SEND_DESCRIPTION = _(
    "Sends one message to the client, synchronously (the bot's messages reach the client in the order it sent "
    "them): text; or text with 1-3 buttons of one kind (callback or url); or one image (JSON `image.url`, or a "
    "multipart upload named `image`). The message is checked against the channel's rules first (422 lists every "
    "violation), one message of the client's window is reserved (409 `window_closed` / `quota_exhausted`), then "
    "the channel is called (502 when it refuses or does not answer). Buttons are not shown on desktop TikTok. "
    "`share_post` shares one of the account's own posts instead (no text, image or buttons with it). "
    "`sender_actions` (`mark_read`, `typing`) are done first, in order, best effort, without a window slot."
)


@extend_schema(tags=["messages"])
class ClientMessagesView(ProjectScopedMixin, generics.ListCreateAPIView):
    serializer_class = MessageSerializer
    # No form-urlencoded: `curl -d '{...}'` sends JSON under that type, which would parse as one odd field.
    parser_classes = [JSONParser, MultiPartParser]

    def get_client(self):
        return get_object_or_404(project_clients(self.project), pk=self.kwargs["pk"])

    def get_queryset(self):
        return Message.objects.filter(client=self.get_client())

    @extend_schema(responses={200: MessageSerializer(many=True), **error_responses(401, 404)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"application/json": SendMessageSerializer, "multipart/form-data": SendMessageSerializer},
        responses={201: MessageSerializer, **error_responses(401, 404, 409, 422, 429, 502)},
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
        )
        message = provider_for(client.channel).send_message(client=client, request=outgoing)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
