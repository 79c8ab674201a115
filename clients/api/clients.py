"""`/api/v1/clients/`: the project's clients with their variables and window (R13, B5)."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api_errors import ApiError
from ..channel_registry import provider_for
from ..models import Client, Project
from ..permissions import ProjectScopedMixin
from ..query_params import database_id
from .docs import error_responses
from .serializers import ClientSerializer, WindowSerializer


def project_clients(project: Project) -> QuerySet[Client]:
    return Client.objects.filter(channel__project=project).select_related("channel")


@extend_schema(
    tags=["clients"],
    parameters=[
        OpenApiParameter("account", int, description=_("Only clients of this account (channel) id.")),
        OpenApiParameter("external_id", str, description=_("The channel's user id (TikTok: unique_identifier).")),
    ],
    responses={200: ClientSerializer(many=True), **error_responses(400, 401)},
)
class ClientListView(ProjectScopedMixin, generics.ListAPIView):
    serializer_class = ClientSerializer

    def get_queryset(self) -> QuerySet[Client]:
        queryset = project_clients(self.project).prefetch_related("variables")
        account = self.request.query_params.get("account")
        if account:
            if database_id(account) is None:
                raise ApiError(code="invalid_account", message=_("Not a valid value."))
            queryset = queryset.filter(channel_id=account)
        external_id = self.request.query_params.get("external_id")
        if external_id:
            queryset = queryset.filter(external_id=external_id)
        return queryset


@extend_schema(tags=["clients"], responses={200: ClientSerializer, **error_responses(401, 404)})
class ClientDetailView(ProjectScopedMixin, generics.RetrieveAPIView):
    serializer_class = ClientSerializer

    def get_queryset(self) -> QuerySet[Client]:
        return project_clients(self.project)


@extend_schema(
    tags=["clients"],
    responses={200: WindowSerializer, 204: None, **error_responses(401, 404)},
    description=_(
        "The client's messaging window: whether the business may send, until when, and how many messages are "
        "left. 204 when the channel has no window."
    ),
)
class ClientWindowView(ProjectScopedMixin, APIView):
    def get(self, request: Request, pk: int) -> Response:
        client = generics.get_object_or_404(project_clients(self.project), pk=pk)
        info = provider_for(client.channel).window(client)
        if info is None:
            return Response(status=204)
        return Response(WindowSerializer(info).data)
