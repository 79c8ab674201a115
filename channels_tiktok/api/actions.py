"""`POST /api/v1/clients/{id}/actions/`: a sender action (typing, mark read) in the client's open window."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok.api.base import TikTokApiView, outbound_errors
from channels_tiktok.messaging.sender_actions import send_sender_action
from clients.api.docs import error_responses


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
class SenderActionsView(TikTokApiView):
    def post(self, request: Request, pk: int) -> Response:
        client = self.project_client(pk)
        action = self.validated(SenderActionSerializer)["action"]
        with outbound_errors():
            send_sender_action(client=client, action=action)
        return Response({"action": action})
