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
    A known client costs one SELECT, plus one UPDATE when something changed.
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


def merge_variables(*, client: Client, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Set several variables of a client; only the changed ones are written, in one upsert.

    Returns (all of the client's variables after the change, sorted by key; what changed), so that a caller
    building a bot event body need not read them again.
    """
    current = dict(client.variables.values_list("key", "value"))
    changed = {key: str(value) for key, value in values.items() if current.get(key) != str(value)}
    if changed:
        # One INSERT … ON CONFLICT DO UPDATE for every changed key (PostgreSQL and SQLite alike); a concurrent
        # writer of the same key cannot make it fail, the last write wins as with update_or_create.
        ClientVariable.objects.bulk_create(
            [ClientVariable(client=client, key=key, value=value) for key, value in changed.items()],
            update_conflicts=True,
            unique_fields=["client", "key"],
            update_fields=["value", "updated_at"],
        )
        current.update(changed)
    return dict(sorted(current.items())), changed


def set_variables(*, client: Client, values: dict[str, str]) -> dict[str, str]:
    """Set several variables of a client; only the changed ones are written. Returns what changed."""
    return merge_variables(client=client, values=values)[1]
