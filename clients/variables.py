"""Client variables (R13): reads and the API's writes. Channel variables are protected through the registry."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from .channel_registry import provider_for
from .models import Client, ClientVariable

MAX_KEY_LENGTH = ClientVariable._meta.get_field("key").max_length


@dataclass(frozen=True)
class VariableRefusal:
    key: str
    code: str
    message: str


def variables_of(client: Client) -> dict[str, str]:
    return dict(client.variables.order_by("key").values_list("key", "value"))


def _as_text(value) -> str:
    return str(value)


def _refusal_for_write(client: Client, key: str) -> VariableRefusal | None:
    if not key or len(key) > MAX_KEY_LENGTH:
        return VariableRefusal(key, "variable_key_invalid", f"A variable key has 1 to {MAX_KEY_LENGTH} characters.")
    if provider_for(client.channel).is_protected(key):
        return VariableRefusal(
            key, "variable_read_only", f"{key!r} is maintained by the channel and cannot be changed through the API."
        )
    return None


def update_variables(*, client: Client, changes: dict[str, object]) -> tuple[dict[str, str], list[VariableRefusal]]:
    """Merge `changes` into the client's variables (`None` deletes a key). Nothing is written if any key is
    refused. Returns (the variables after the change, refusals)."""
    refusals = [r for key in changes if (r := _refusal_for_write(client, key))]
    if refusals:
        return variables_of(client), refusals
    with transaction.atomic():
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
