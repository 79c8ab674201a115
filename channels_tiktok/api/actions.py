"""`POST /api/v1/clients/{id}/actions/`: a sender action (typing, mark read) in the client's open window."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok.api.base import TikTokApiView, outbound_errors, writes_to_tiktok
from channels_tiktok.messaging.sender_actions import send_sender_action


class SenderActionSerializer(serializers.Serializer):
    action = serializers.CharField(help_text=_("typing (shown for about 5 seconds) or mark_read."))


@writes_to_tiktok(
    tag="messages",
    request=SenderActionSerializer,
    answer={200: SenderActionSerializer},
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
