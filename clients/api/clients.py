"""`/api/v1/clients/`: the project's clients with their variables and window (R13, B5)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from ..api_errors import ApiError
from ..models import Client
from ..permissions import ProjectScopedMixin
from ..query_params import database_id
from .docs import error_responses
from .serializers import ClientSerializer


def project_clients(project):
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

    def get_queryset(self):
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

    def get_queryset(self):
        return project_clients(self.project)
