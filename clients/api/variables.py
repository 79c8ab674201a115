"""`/api/v1/clients/{id}/variables/`: read, merge and delete a client's variables (R13)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api_errors import ApiError, ViolationsError
from ..models import Client
from ..permissions import ProjectScopedMixin
from ..text import UNSTORABLE_MESSAGE, storable_text
from ..variables import delete_variable, update_variables, variables_of
from .clients import project_clients
from .docs import error_responses

VARIABLES_SCHEMA = {"type": "object", "additionalProperties": {"type": "string"}}
PATCH_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string", "nullable": True},
    "description": "Keys to set (strings; numbers and booleans are stored as text) or delete (null).",
}


def _unstorable(changes: dict) -> list[dict]:
    """Keys and values no database column can hold (a NUL, a lone UTF-16 surrogate): refused, not a 500."""
    errors = []
    for key, value in changes.items():
        if not storable_text(key):
            errors.append({"code": "variable_key_invalid", "field": None, "message": str(UNSTORABLE_MESSAGE)})
        elif value is not None and not storable_text(str(value)):
            errors.append({"code": "variable_value_invalid", "field": key, "message": str(UNSTORABLE_MESSAGE)})
    return errors


class ClientVariablesMixin(ProjectScopedMixin):
    def get_client(self) -> Client:
        return get_object_or_404(project_clients(self.project), pk=self.kwargs["pk"])


@extend_schema(tags=["clients"])
class VariablesView(ClientVariablesMixin, APIView):
    @extend_schema(responses={200: OpenApiResponse(VARIABLES_SCHEMA), **error_responses(401, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(variables_of(self.get_client()))

    @extend_schema(
        request={"application/json": PATCH_SCHEMA},
        responses={200: OpenApiResponse(VARIABLES_SCHEMA), **error_responses(401, 404, 422)},
        description=_("Merges the given keys. `tiktok_*` variables are maintained by the channel: read-only here."),
    )
    def patch(self, request: Request, pk: int) -> Response:
        client = self.get_client()
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object of variables.")]})
        changes = dict(request.data)
        bad = [k for k, v in changes.items() if isinstance(v, dict | list)]
        if bad:
            raise ViolationsError(
                [{"code": "variable_value_invalid", "field": k, "message": "A value is a string."} for k in bad]
            )
        unstorable = _unstorable(changes)
        if unstorable:
            raise ViolationsError(unstorable)
        variables, refusals = update_variables(client=client, changes=changes)
        if refusals:
            raise ViolationsError([{"code": r.code, "field": r.key or None, "message": r.message} for r in refusals])
        return Response(variables)


@extend_schema(tags=["clients"])
class VariableDetailView(ClientVariablesMixin, APIView):
    @extend_schema(
        responses={204: None, **error_responses(401, 404, 409)},
        description=_("Deletes a custom variable. Channel variables are refused (409), with the reason."),
    )
    def delete(self, request: Request, pk: int, key: str) -> Response:
        if not storable_text(key):
            raise ViolationsError(_unstorable({key: None}))
        refusal = delete_variable(client=self.get_client(), key=key)
        if refusal:
            raise ApiError(code=refusal.code, message=refusal.message, status_code=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)
