"""Writes on clients and their variables, channel-agnostic: any channel upserts its users through these.

Both come in a set-wise form for a worker applying a batch of webhooks: a constant number of queries whatever the
number of rows, with the result of applying the rows one after another in the given order.
"""

import datetime as dt
from dataclasses import dataclass
from typing import cast

from django.db import connections, router

from . import inserts
from .models import Channel, Client, ClientVariable


@dataclass(frozen=True)
class Sighting:
    """One appearance of a channel's user, with what the channel said about them (empty: not said)."""

    external_id: str
    display_name: str = ""
    username: str = ""
    seen_at: dt.datetime | None = None


def _changes(client: Client, sighting: Sighting) -> dict[str, object]:
    changes: dict[str, object] = {}
    if sighting.display_name and client.display_name != sighting.display_name:
        changes["display_name"] = sighting.display_name
    if sighting.username and client.username != sighting.username:
        changes["username"] = sighting.username
    if sighting.seen_at and (client.last_message_at is None or sighting.seen_at > client.last_message_at):
        changes["last_message_at"] = sighting.seen_at
    return changes


def upsert_clients(*, channel: Channel, sightings: list[Sighting]) -> dict[str, Client]:
    """The channel's users of these sightings by external id, each created on first sight; names and
    `last_message_at` move as the sightings say, in order, and `last_message_at` never moves back, even past a
    later time another worker stored since this one read the row.

    Race-safe: the unique (channel, external_id) constraint decides who creates a user (INSERT … ON CONFLICT DO
    NOTHING … RETURNING: the rows this call created come back), and only rows a concurrent writer created are read
    back. Queries: one SELECT; for unknown users one INSERT; one UPDATE when a name changed; one UPDATE, executed
    for each user, when a message time moved. A single user with a message time is read by the UPDATE that moves
    it (… RETURNING) instead of a SELECT and an UPDATE.

    A user this call created has `created_here` set: nothing else (variables, messages, a conversation) can refer
    to it before this transaction commits, so callers need not read what belongs to it.
    """
    ids = list(dict.fromkeys(sighting.external_id for sighting in sightings))
    times = [sighting.seen_at for sighting in sightings if sighting.seen_at]
    if len(ids) == 1 and times:
        # One user with a message time (a direct message alone): read the row and move its time and names in one
        # statement. Names as the sightings leave them: the last one given of each.
        names = {
            name: value
            for sighting in sightings
            for name, value in (("display_name", sighting.display_name), ("username", sighting.username))
            if value
        }
        found = {client.external_id: client for client in _read_moving(channel, ids[0], max(times), names)}
    else:
        found = {c.external_id: c for c in Client.objects.filter(channel=channel, external_id__in=ids)}
    # In one order for every writer: two workers creating the same users wait on each other, never deadlock.
    missing = sorted(external_id for external_id in ids if external_id not in found)
    if missing:
        first: dict[str, Sighting] = {}
        for sighting in sightings:
            first.setdefault(sighting.external_id, sighting)
        for client in _insert_new(channel, [first[external_id] for external_id in missing]):
            client.created_here = True
            found[client.external_id] = client
        # Created by a concurrent writer meanwhile (its row then takes our sightings as changes below).
        theirs = [external_id for external_id in missing if external_id not in found]
        if theirs:
            found.update(
                (client.external_id, client)
                for client in Client.objects.filter(channel=channel, external_id__in=theirs)
            )
    renamed: dict[int, Client] = {}
    name_fields: set[str] = set()
    moved: dict[int, dt.datetime] = {}
    for sighting in sightings:
        client = found[sighting.external_id]
        for name, value in _changes(client, sighting).items():
            setattr(client, name, value)
            if name == "last_message_at":
                moved[client.pk] = cast(dt.datetime, value)
            else:
                name_fields.add(name)
                renamed[client.pk] = client
    if renamed:
        Client.objects.bulk_update(sorted(renamed.values(), key=lambda client: client.pk), sorted(name_fields))
    if moved:
        _move_last_message_at(moved)
    return found


def _read_moving(channel: Channel, external_id: str, at: dt.datetime, names: dict[str, str]) -> list[Client]:
    """The channel's user with this id (none if unknown), its `last_message_at` moved to `at` unless the stored one
    is later, and its names set to `names`: UPDATE … RETURNING, one round trip where a SELECT and one or two
    UPDATEs were needed."""
    connection = connections[router.db_for_write(Client)]
    quote = connection.ops.quote_name
    column = quote(Client._meta.get_field("last_message_at").column)
    value = Client._meta.get_field("last_message_at").get_db_prep_save(at, connection)
    returned = ", ".join(quote(field.column) for field in Client._meta.concrete_fields)
    columns = {"display_name": Client._meta.get_field("display_name").column}
    columns["username"] = Client._meta.get_field("username").column
    renames = "".join(f", {quote(columns[name])} = %s" for name in sorted(names))
    sql = (
        f"UPDATE {quote(Client._meta.db_table)} SET {column} = "  # noqa: S608 - only the model's own names
        f"CASE WHEN {column} IS NULL OR {column} < %s THEN %s ELSE {column} END{renames} "
        f"WHERE {quote(Client._meta.get_field('channel').column)} = %s "
        f"AND {quote(Client._meta.get_field('external_id').column)} = %s RETURNING {returned}"
    )
    params = [value, value, *(names[name] for name in sorted(names)), channel.pk, external_id]
    return list(Client.objects.raw(sql, params))


def _insert_new(channel: Channel, sightings: list[Sighting]) -> list[Client]:
    """The users of these sightings, inserted unless they exist: those created here (one a concurrent writer
    created is not returned)."""
    clients = {
        sighting.external_id: Client(
            channel=channel,
            external_id=sighting.external_id,
            display_name=sighting.display_name,
            username=sighting.username,
            last_message_at=sighting.seen_at,
        )
        for sighting in sightings
    }
    created = []
    for pk, external_id in inserts.insert_new(list(clients.values()), returning=["id", "external_id"]):
        client = clients[external_id]
        client.pk, client._state.adding, client._state.db = pk, False, router.db_for_write(Client)
        created.append(client)
    return created


def _move_last_message_at(times: dict[int, dt.datetime]) -> None:
    """Each client's `last_message_at` becomes ours unless the stored one is later: another worker may have stored
    a later message's time since this one read the row (two workers, one user). One statement, executed for each
    client (in one round trip where the driver pipelines, as psycopg does): the same guard compiled by the ORM as
    one CASE over the batch cost the worker more CPU than the rest of the upsert."""
    connection = connections[router.db_for_write(Client)]
    quote = connection.ops.quote_name
    field = Client._meta.get_field("last_message_at")
    column = quote(field.column)
    sql = (
        f"UPDATE {quote(Client._meta.db_table)} SET {column} = %s "  # noqa: S608 - only the model's own names
        f"WHERE {quote(Client._meta.pk.column)} = %s AND ({column} IS NULL OR {column} < %s)"
    )
    rows = []
    for pk, at in sorted(times.items()):
        value = field.get_db_prep_save(at, connection)
        rows.append((value, pk, value))
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def upsert_client(
    *,
    channel: Channel,
    external_id: str,
    display_name: str = "",
    username: str = "",
    seen_at: dt.datetime | None = None,
) -> Client:
    """The channel's user with this stable id, created on first sight; names are updated when given."""
    sighting = Sighting(external_id=external_id, display_name=display_name, username=username, seen_at=seen_at)
    return upsert_clients(channel=channel, sightings=[sighting])[external_id]


def merge_variables_many(
    changes: list[tuple[Client, dict[str, str]]], *, stored: dict[int, dict[str, str]] | None = None
) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Set variables of clients, one change after another in the given order; only values that end up different
    are written, in one upsert. For each change returns (the client's variables right after it, sorted by key;
    what it changed), so that a caller building a bot event body need not read them again. Queries: one SELECT,
    and one INSERT … ON CONFLICT DO UPDATE when something changed (a concurrent writer of the same key cannot make
    it fail; the last write wins, as with update_or_create).

    Not read: the variables of clients in `stored` (the caller read them in this transaction, after taking the
    client's row lock), and of clients created here (`upsert_clients`: none can exist yet)."""
    stored = stored or {}
    current: dict[int, dict[str, str]] = {client.pk: dict(stored.get(client.pk, {})) for client, _values in changes}
    unread = {client.pk for client, _values in changes if client.pk not in stored and not client.created_here}
    if unread:
        rows = ClientVariable.objects.filter(client_id__in=sorted(unread)).values_list("client_id", "key", "value")
        for client_id, key, value in rows:
            current[client_id][key] = value
    before = {client_id: dict(values) for client_id, values in current.items()}
    results = []
    for client, values in changes:
        mine = current[client.pk]
        changed = {key: str(value) for key, value in values.items() if mine.get(key) != str(value)}
        mine.update(changed)
        results.append((dict(sorted(mine.items())), changed))
    writes = [
        ClientVariable(client_id=client_id, key=key, value=value)
        for client_id, values in sorted(current.items())
        for key, value in sorted(values.items())
        if before[client_id].get(key) != value
    ]
    if writes:
        ClientVariable.objects.bulk_create(
            writes, update_conflicts=True, unique_fields=["client", "key"], update_fields=["value", "updated_at"]
        )
    return results


def merge_variables(*, client: Client, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Set several variables of a client (see merge_variables_many). Returns (all of the client's variables after
    the change, sorted by key; what changed)."""
    return merge_variables_many([(client, values)])[0]


def set_variables(*, client: Client, values: dict[str, str]) -> dict[str, str]:
    """Set several variables of a client; only the changed ones are written. Returns what changed."""
    return merge_variables(client=client, values=values)[1]
