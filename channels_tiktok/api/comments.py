"""`POST /api/v1/clients/{id}/comment-replies/`: `tiktok_create_comment` (R15); and
`POST /api/v1/tiktok/accounts/{id}/comments/{comment_id}/actions/`: hide, unhide, like, unlike, delete."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok.api.base import TikTokApiView, outbound_errors, writes_to_tiktok
from channels_tiktok.api.serializers import CommentReplySerializer
from channels_tiktok.messaging.comment_moderation import moderate
from channels_tiktok.messaging.comment_replies import reply_to_comment
from clients.api.serializers import MessageSerializer


@writes_to_tiktok(
    tag="messages",
    request=CommentReplySerializer,
    answer={201: MessageSerializer},
    description=_(
        "Replies to the client's comment. `comment_video_id` and `comment_id` default to the client's "
        "`tiktok_comment_video_id` and `tiktok_comment_id` variables (422 `comment_target_missing` when neither "
        "gives them). Not retried once the request may have reached TikTok: a 502 `tiktok_unavailable` means the "
        "reply may or may not have been posted."
    ),
)
class CommentRepliesView(TikTokApiView):
    def post(self, request: Request, pk: int) -> Response:
        client = self.project_client(pk)
        body = self.validated(CommentReplySerializer)
        with outbound_errors():
            message = reply_to_comment(client=client, **body)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class CommentActionSerializer(serializers.Serializer):
    action = serializers.CharField(help_text=_("hide, unhide, like, unlike or delete."))
    video_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "The comment's video: needed to hide or unhide, and lets TikTok confirm a comment is the account's."
        ),
    )


@writes_to_tiktok(
    tag="tiktok accounts",
    request=CommentActionSerializer,
    answer={200: CommentActionSerializer},
    description=_(
        "Moderates a comment on the account's videos: hide or unhide it (needs `video_id`: 422 "
        "`comment_video_required`), like or unlike it, or delete it. Only the account's own comments (its replies) "
        "can be deleted: another user's comment is refused before TikTok is asked (422 `comment_not_own`); hide it "
        "instead. Needs the comment.list.manage permission (409 `missing_scope`)."
    ),
)
class CommentActionsView(TikTokApiView):
    def post(self, request: Request, pk: int, comment_id: str) -> Response:
        account = self.project_account(pk)
        body = self.validated(CommentActionSerializer)
        with outbound_errors():
            moderate(account=account, comment_id=comment_id, **body)
        return Response(body)
