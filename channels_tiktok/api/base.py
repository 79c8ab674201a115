"""What the TikTok API views share: the project's account or client by id (404 otherwise), the validated body,
TikTok's refusals answered as the API's errors, and the schema of an operation that writes to TikTok."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.shortcuts import get_object_or_404
from django_stubs_ext import StrOrPromise
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from channels_tiktok.api.messages import as_api_error
from channels_tiktok.messaging.outbound import OutboundError
from channels_tiktok.models import TikTokAccount
from clients.api.clients import project_clients
from clients.api.docs import error_responses
from clients.models import Client
from clients.permissions import ProjectScopedMixin


class TikTokApiView(ProjectScopedMixin, APIView):
    def project_account(self, pk: int) -> TikTokAccount:
        return get_object_or_404(TikTokAccount, pk=pk, channel__project=self.project)

    def project_client(self, pk: int) -> Client:
        return get_object_or_404(project_clients(self.project), pk=pk)

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict:
        """The request's body read by `serializer_class`; 422 with every invalid field otherwise."""
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data


@contextmanager
def outbound_errors() -> Iterator[None]:
    """A refusal (`OutboundError`) raised inside is answered as the API's error for it (`as_api_error`)."""
    try:
        yield
    except OutboundError as exc:
        raise as_api_error(exc) from exc


def writes_to_tiktok(*, tag: str, request: object, answer: dict, description: StrOrPromise) -> Callable:
    """The schema of an operation with a body that calls TikTok: `answer` ({status: serializer}) and the errors
    such an operation may answer (401, 404, 409, 422, 429, 502)."""
    return extend_schema(
        tags=[tag],
        request=request,
        responses={**answer, **error_responses(401, 404, 409, 422, 429, 502)},
        description=description,
    )
