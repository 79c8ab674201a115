"""`/api/v1/clients/{id}/queued-messages/`: the bot's messages waiting for the client's next window."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok.api.base import TikTokApiView
from channels_tiktok.messaging import queue
from channels_tiktok.models import QueuedSend
from clients.api.docs import error_responses
from clients.api.serializers import QueuedMessageSerializer
from clients.api_errors import ApiError

NOT_QUEUED = {"not_queued": "The message is no longer waiting: it was sent, expired or cancelled."}


@extend_schema(
    tags=["messages"],
    responses={200: QueuedMessageSerializer(many=True), **error_responses(401, 404)},
    description=_("The messages kept for the client's next window (`when_closed: queue`), in the order they go."),
)
class QueuedMessagesView(TikTokApiView):
    def get(self, request: Request, pk: int) -> Response:
        client = self.project_client(pk)
        return Response(QueuedMessageSerializer(queue.pending(client), many=True).data)


@extend_schema(
    tags=["messages"],
    responses={204: None, **error_responses(401, 404, 409)},
    description=_("Cancels a message waiting for the client's next window (409 not_queued when it is no longer)."),
)
class QueuedMessageView(TikTokApiView):
    def delete(self, request: Request, pk: int, queued_id: int) -> Response:
        client = self.project_client(pk)
        queued = get_object_or_404(QueuedSend, pk=queued_id, client=client)
        if not queue.cancel(queued):
            code = "not_queued"
            raise ApiError(code=code, message=NOT_QUEUED[code], status_code=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)
