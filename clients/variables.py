"""Client variables (R13): reads and the API's writes. Channel variables are protected through the registry."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from .channel_registry import provider_for
from .models import Client, ClientVariable

# The column's length; CLIENT_VARIABLE_KEY_MAX_LENGTH may only narrow it.
MAX_KEY_LENGTH = ClientVariable._meta.get_field("key").max_length


def key_max_length() -> int:
    return min(settings.CLIENT_VARIABLE_KEY_MAX_LENGTH, MAX_KEY_LENGTH)


@dataclass(frozen=True)
class VariableRefusal:
    key: str
    code: str
    message: str


def variables_of(client: Client) -> dict[str, str]:
    return dict(client.variables.order_by("key").values_list("key", "value"))


def _as_text(value: object) -> str:
    return str(value)


def _refusal_for_write(client: Client, key: str) -> VariableRefusal | None:
    limit = key_max_length()
    if not key or len(key) > limit:
        return VariableRefusal(
            key, "variable_key_invalid", gettext("A variable key has 1 to %(limit)s characters.") % {"limit": limit}
        )
    if provider_for(client.channel).is_protected(key):
        return VariableRefusal(
            key, "variable_read_only", f"{key!r} is maintained by the channel and cannot be changed through the API."
        )
    return None


def _refusals_for_values(changes: dict[str, object]) -> list[VariableRefusal]:
    """Values are bounded so that one client's variables, which every bot event carries, stay small."""
    limit = settings.CLIENT_VARIABLE_VALUE_MAX_LENGTH
    return [
        VariableRefusal(
            key,
            "variable_value_too_long",
            gettext("A variable value has at most %(limit)s characters.") % {"limit": limit},
        )
        for key, value in changes.items()
        if value is not None and len(_as_text(value)) > limit
    ]


def _refusal_for_count(client: Client, changes: dict[str, object]) -> VariableRefusal | None:
    """So is the number of variables a client has after the change."""
    keys_limit = settings.CLIENT_VARIABLES_MAX_KEYS
    # Cheap first: a request that alone carries more keys than allowed needs no query.
    added = {key for key, value in changes.items() if value is not None}
    if len(added) > keys_limit:
        total = len(added)
    else:
        kept = set(client.variables.values_list("key", flat=True)) - {k for k, v in changes.items() if v is None}
        total = len(kept | added)
    if total <= keys_limit:
        return None
    return VariableRefusal(
        "",
        "too_many_variables",
        gettext("A client has at most %(limit)s variables; this change would make %(total)s.")
        % {"limit": keys_limit, "total": total},
    )


def update_variables(*, client: Client, changes: dict[str, object]) -> tuple[dict[str, str], list[VariableRefusal]]:
    """Merge `changes` into the client's variables (`None` deletes a key). Nothing is written if any key is
    refused. Returns (the variables after the change, refusals)."""
    refusals = [r for key in changes if (r := _refusal_for_write(client, key))] + _refusals_for_values(changes)
    if refusals:
        return variables_of(client), refusals
    with transaction.atomic():
        # The client's row is locked so that two concurrent merges cannot both pass the count.
        list(Client.objects.select_for_update().filter(pk=client.pk).values_list("pk", flat=True))
        refusal = _refusal_for_count(client, changes)
        if refusal:
            return variables_of(client), [refusal]
        for key, value in changes.items():
            if value is None:
                ClientVariable.objects.filter(client=client, key=key).delete()
            else:
                ClientVariable.objects.update_or_create(client=client, key=key, defaults={"value": _as_text(value)})
    return variables_of(client), []


def delete_variable(*, client: Client, key: str) -> VariableRefusal | None:
    """Delete one variable through the API; channel variables are refused, with why for the required ones."""
    provider = provider_for(client.channel)
    if key in provider.required_variables:
        return VariableRefusal(key, "variable_required", provider.required_variables[key])
    refusal = _refusal_for_write(client, key)
    if refusal:
        return refusal
    ClientVariable.objects.filter(client=client, key=key).delete()
    return None
