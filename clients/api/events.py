"""`GET /api/v1/events/?after=<cursor>&limit=<n>`: the project's bot events, oldest first (the pull feed).

The cursor is opaque to the bot: pass back `next_cursor` to get what came after. An empty page returns the
same cursor, so a bot can poll with it forever without missing or repeating an event.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api_errors import ApiError
from ..models import BotEvent
from ..permissions import ProjectScopedMixin
from ..query_params import database_id

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _non_negative_int(value: str | None, *, name: str, default: int) -> int:
    if not value:
        return default
    if database_id(value) is None:  # ASCII digits within an id's range ("¹".isdigit() is True)
        raise ApiError(code="invalid_cursor" if name == "after" else "invalid_limit", message=_("Not a valid value."))
    return int(value)


@extend_schema(
    tags=["events"],
    parameters=[
        OpenApiParameter("after", str, description=_("The `next_cursor` of the previous page; omit to start.")),
        OpenApiParameter("limit", int, description=_("Events per page (1-500, default 100).")),
    ],
    responses={
        200: inline_serializer(
            "EventFeedPage",
            {
                "results": serializers.ListField(child=serializers.JSONField()),
                "next_cursor": serializers.CharField(allow_null=True),
            },
        ),
        400: OpenApiTypes.OBJECT,
        401: OpenApiTypes.OBJECT,
    },
)
class EventFeedView(ProjectScopedMixin, APIView):
    def get(self, request: Request) -> Response:
        after = _non_negative_int(request.query_params.get("after"), name="after", default=0)
        limit = min(
            max(_non_negative_int(request.query_params.get("limit"), name="limit", default=DEFAULT_LIMIT), 1), MAX_LIMIT
        )
        rows = list(
            BotEvent.objects.filter(project=self.project, id__gt=after).order_by("id").values_list("id", "body")[:limit]
        )
        next_cursor = str(rows[-1][0]) if rows else (str(after) if after else None)
        return Response({"results": [body for _id, body in rows], "next_cursor": next_cursor})
