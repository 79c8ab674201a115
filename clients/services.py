"""Writes on clients and their variables, channel-agnostic: any channel upserts its users through these."""

import datetime as dt

from .models import Channel, Client, ClientVariable


def upsert_client(
    *,
    channel: Channel,
    external_id: str,
    display_name: str = "",
    username: str = "",
    seen_at: dt.datetime | None = None,
) -> Client:
    """The channel's user with this stable id, created on first sight; names are updated when given.

    Race-safe: the unique (channel, external_id) constraint decides, and get_or_create re-reads the winner.
    """
    client, created = Client.objects.get_or_create(
        channel=channel,
        external_id=external_id,
        defaults={"display_name": display_name, "username": username, "last_message_at": seen_at},
    )
    if created:
        return client
    changes = {}
    if display_name and client.display_name != display_name:
        changes["display_name"] = display_name
    if username and client.username != username:
        changes["username"] = username
    if seen_at and (client.last_message_at is None or seen_at > client.last_message_at):
        changes["last_message_at"] = seen_at
    if changes:
        Client.objects.filter(pk=client.pk).update(**changes)
        for name, value in changes.items():
            setattr(client, name, value)
    return client


def set_variables(*, client: Client, values: dict[str, str]) -> dict[str, str]:
    """Set several variables of a client; only the changed ones are written. Returns what changed."""
    current = dict(client.variables.filter(key__in=values).values_list("key", "value"))
    changed = {key: str(value) for key, value in values.items() if current.get(key) != str(value)}
    for key, value in changed.items():
        ClientVariable.objects.update_or_create(client=client, key=key, defaults={"value": value})
    return changed
