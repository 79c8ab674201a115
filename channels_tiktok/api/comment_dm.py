"""`POST /api/v1/clients/{id}/comment-dm/`: the one private message a high-intent comment may get, and
`GET/PUT /api/v1/tiktok/accounts/{id}/comment-to-message/`: the account's comment-to-message switch."""

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok import constants
from channels_tiktok.accounts.tokens import AccountUnavailableError
from channels_tiktok.api.base import TikTokApiView, outbound_errors, writes_to_tiktok
from channels_tiktok.api.messages import as_api_error
from channels_tiktok.messaging import comment_dm
from channels_tiktok.messaging.outbound import BlockedError, UpstreamError
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients.api.docs import error_responses
from clients.api.serializers import MessageSerializer


class CommentDmSerializer(serializers.Serializer):
    comment_id = serializers.CharField(help_text="The high-intent comment (`data.comment_id` of the event).")
    text = serializers.CharField(max_length=constants.MAX_TEXT_LENGTH, help_text="The private message's text.")


class CommentToMessageSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether comments may be answered with one private message.")


class CommentToMessageStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(allow_null=True, help_text="The switch as TikTok said it last.")
    checked_at = serializers.DateTimeField(allow_null=True, help_text="When it was last read from or set on TikTok.")


@writes_to_tiktok(
    tag="messages",
    request=CommentDmSerializer,
    answer={201: MessageSerializer},
    description=(
        "Answers a comment TikTok flagged as high-intent (`client.high_intent_comment`) with one private message "
        "(TikTok's comment-to-message reply), the only way to write first. Refused with 409 and a stable code: "
        "`comment_dm_unknown_comment`, `comment_dm_business_region` (the business is not registered in Vietnam, "
        "Indonesia or Thailand), `comment_dm_commenter_region`, `comment_dm_commenter_minor`, "
        "`comment_dm_not_eligible` (not a first-level comment on the account's own video), `comment_dm_expired` "
        "(48 hours), `comment_dm_already_replied`, `comment_dm_recent_exchange` (a DM exchange in the past 24 "
        "hours), `comment_dm_disabled` (the account's switch is off). The message does not open the messaging "
        "window: the client must write for the bot to send more."
    ),
)
class CommentDmView(TikTokApiView):
    def post(self, request: Request, pk: int) -> Response:
        client = self.project_client(pk)
        body = self.validated(CommentDmSerializer)
        with outbound_errors():
            message = comment_dm.send_comment_dm(client=client, **body)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


def _switch(account: TikTokAccount) -> dict:
    return {"enabled": account.comment_to_message, "checked_at": account.comment_to_message_checked_at}


class CommentToMessageView(TikTokApiView):
    def _tiktok(self, operation: Callable[[], TikTokAccount]) -> TikTokAccount:
        try:
            return operation()
        except AccountUnavailableError as exc:
            raise as_api_error(BlockedError("account_unavailable", str(exc))) from exc
        except TikTokError as exc:
            raise as_api_error(UpstreamError.from_error(exc)) from exc

    @extend_schema(
        tags=["tiktok accounts"],
        summary="Read the account's comment-to-message switch from TikTok",
        responses={200: CommentToMessageStateSerializer, **error_responses(401, 404, 409, 502)},
    )
    def get(self, request: Request, pk: int) -> Response:
        account = self.project_account(pk)
        return Response(_switch(self._tiktok(lambda: comment_dm.read_switch(account))))

    @extend_schema(
        tags=["tiktok accounts"],
        summary="Switch comment-to-message on or off on TikTok",
        request=CommentToMessageSerializer,
        responses={200: CommentToMessageStateSerializer, **error_responses(401, 404, 409, 422, 502)},
    )
    def put(self, request: Request, pk: int) -> Response:
        account = self.project_account(pk)
        enabled = self.validated(CommentToMessageSerializer)["enabled"]
        return Response(_switch(self._tiktok(lambda: comment_dm.set_switch(account, enabled=enabled))))
