"""`POST /api/v1/clients/{id}/actions/`: a sender action (typing, mark read) in the client's open window."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_tiktok.api.messages import as_api_error
from channels_tiktok.messaging.outbound import OutboundError
from channels_tiktok.messaging.sender_actions import send_sender_action
from clients.api.clients import project_clients
from clients.api.docs import error_responses
from clients.permissions import ProjectScopedMixin


class SenderActionSerializer(serializers.Serializer):
    action = serializers.CharField(help_text=_("typing (shown for about 5 seconds) or mark_read."))


@extend_schema(
    tags=["messages"],
    request=SenderActionSerializer,
    responses={200: SenderActionSerializer, **error_responses(401, 404, 409, 422, 429, 502)},
    description=_(
        "Shows the client that the bot is typing, or marks the conversation read. Needs the client's open "
        "window (409 `no_conversation` / `window_closed`) but takes none of its messages; goes through the app's "
        "rate limit (429). 422 `sender_action_unknown` for another action."
    ),
)
class SenderActionsView(ProjectScopedMixin, APIView):
    def post(self, request: Request, pk: int) -> Response:
        client = get_object_or_404(project_clients(self.project), pk=pk)
        body = SenderActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            send_sender_action(client=client, action=body.validated_data["action"])
        except OutboundError as exc:
            raise as_api_error(exc) from exc
        return Response({"action": body.validated_data["action"]})
