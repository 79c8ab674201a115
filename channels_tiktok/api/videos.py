"""`GET /api/v1/tiktok/accounts/{id}/videos/`: the account's own posts, the ones a send may share."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels_tiktok.api.base import TikTokApiView, outbound_errors
from channels_tiktok.messaging.videos import list_page
from clients.api.docs import error_responses


class VideoSerializer(serializers.Serializer):
    item_id = serializers.CharField(help_text=_("Give it as share_post.item_id to share the post."))
    caption = serializers.CharField(required=False)
    thumbnail_url = serializers.CharField(required=False)
    share_url = serializers.CharField(required=False)
    embed_url = serializers.CharField(required=False)
    create_time = serializers.IntegerField(required=False, help_text=_("Unix time."))
    media_type = serializers.CharField(required=False, help_text=_("VIDEO or PHOTO."))
    is_ad = serializers.BooleanField(required=False)


class VideoPageSerializer(serializers.Serializer):
    videos = VideoSerializer(many=True)
    cursor = serializers.CharField(allow_null=True, help_text=_("Pass it as ?cursor= for the next page."))
    has_more = serializers.BooleanField()


@extend_schema(
    tags=["tiktok accounts"],
    parameters=[
        OpenApiParameter("cursor", OpenApiTypes.STR, description=_("The previous page's cursor."), required=False)
    ],
    responses={200: VideoPageSerializer, **error_responses(401, 404, 409, 429, 502)},
    description=_(
        "The account's own posts, newest first, as TikTok lists them (20 per page; `cursor` and `has_more` "
        "passed through). A page is cached for a minute. Needs the video.list permission (409 `missing_scope`)."
    ),
)
class AccountVideosView(TikTokApiView):
    def get(self, request: Request, pk: int) -> Response:
        account = self.project_account(pk)
        with outbound_errors():
            page = list_page(account, cursor=str(request.query_params.get("cursor") or ""))
        cursor = page["cursor"]
        return Response({**page, "cursor": None if cursor in (None, "") else str(cursor)})
