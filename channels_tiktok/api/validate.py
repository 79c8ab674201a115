"""`POST /api/v1/messages/validate/`: the send's rules as a dry run, for the bot builder at design time (B4)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok.api.base import TikTokApiView, outbound_errors
from channels_tiktok.api.messages import buttons_of, fallback_wanted, image_of
from channels_tiktok.api.serializers import ValidateMessageSerializer, ValidationResultSerializer
from channels_tiktok.messaging.dry_run import validate_message
from channels_tiktok.messaging.fallback import shown_text
from clients.api.clients import project_clients
from clients.api.docs import error_responses
from clients.api_errors import localized_errors
from clients.channel_registry import OutgoingRequest
from clients.parsers import JSONParser


@extend_schema(
    tags=["messages"],
    request={"application/json": ValidateMessageSerializer, "multipart/form-data": ValidateMessageSerializer},
    responses={200: ValidationResultSerializer, **error_responses(401, 404, 422, 429)},
    description=_(
        "Checks a message against every rule without sending it: the same body as a send, plus `account` and "
        "optionally `client` (then its window and image capability are checked too). An image URL is fetched to "
        "check its size and format. Warnings do not make a message invalid. `fallback_text` is the card's text "
        "as it will be sent when the buttons are also listed as text (`text_fallback`, or the project's setting)."
    ),
)
class ValidateMessageView(TikTokApiView):
    # No form-urlencoded: `curl -d '{...}'` sends JSON under that type, which would parse as one odd field.
    parser_classes = [JSONParser, MultiPartParser]

    def post(self, request: Request) -> Response:
        data = self.validated(ValidateMessageSerializer)
        account = self.project_account(data["account"])
        client = None
        if data["client"] is not None:
            client = get_object_or_404(project_clients(self.project), pk=data["client"], channel_id=account.pk)
        image = data["image"] or {}
        outgoing = OutgoingRequest(
            text=data["text"],
            buttons=data["buttons"],
            image_url=image.get("url", ""),
            image_file=image.get("file"),
            text_fallback=data["text_fallback"],
        )
        buttons = buttons_of(outgoing)
        with_fallback = fallback_wanted(self.project, outgoing)
        with outbound_errors():  # image_fetch_busy
            verdict = validate_message(
                account=account,
                client=client,
                text=outgoing.text,
                buttons=buttons,
                image=image_of(outgoing),
                share_post=(data["share_post"] or {}).get("item_id", ""),
                text_fallback=with_fallback,
            )
        shown = shown_text(outgoing.text, buttons, enabled=with_fallback)
        return Response(
            {
                "valid": verdict.valid,
                "errors": localized_errors([v.as_dict() for v in verdict.errors]),
                "warnings": localized_errors([v.as_dict() for v in verdict.warnings]),
                "fallback_text": shown if shown != outgoing.text else None,
            }
        )
