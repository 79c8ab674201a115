"""clients.services.upsert_clients: users created on first sight, names and last_message_at as the sightings say,
and a later message time stored by another worker in the meantime never overwritten with an earlier one."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client
from clients.services import Sighting, upsert_clients
from tests.factories import ChannelFactory, ClientFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class StoredMeanwhile:
    """An execute wrapper standing for another worker: right before our UPDATE of the clients table runs, it
    stores `value` as the user's last_message_at, as a worker that read the row after us and wrote first would."""

    def __init__(self, client_pk: int, value: dt.datetime):
        self.client_pk, self.value, self.fired = client_pk, value, False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and sql.startswith('UPDATE "clients_client"'):
            self.fired = True
            Client.objects.filter(pk=self.client_pk).update(last_message_at=self.value)
        return execute(sql, params, many, context)


def test_first_sight_creates_and_later_sightings_move_the_time_forward_in_order():
    channel = ChannelFactory()
    upsert_clients(
        channel=channel,
        sightings=[
            Sighting("u1", display_name="Ann", seen_at=at(5)),
            Sighting("u1", display_name="Anna", seen_at=at(3)),  # older message, newer name
            Sighting("u2", username="bob", seen_at=at(1)),
        ],
    )
    rows = dict(Client.objects.filter(channel=channel).values_list("external_id", "last_message_at"))
    assert rows == {"u1": at(5), "u2": at(1)}
    assert Client.objects.get(channel=channel, external_id="u1").display_name == "Anna"

    upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=at(9))])
    assert Client.objects.get(channel=channel, external_id="u1").last_message_at == at(9)


def test_a_later_time_stored_by_another_worker_meanwhile_is_kept():
    channel = ChannelFactory()
    client = ClientFactory(channel=channel, external_id="u1", last_message_at=at(1))
    meanwhile = StoredMeanwhile(client.pk, at(10))
    # Two users: read, then written (one user alone is read by the UPDATE that moves it, with nothing between).
    with connection.execute_wrapper(meanwhile):
        found = upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=at(5)), Sighting("u2")])
    assert meanwhile.fired
    client.refresh_from_db()
    assert client.last_message_at == at(10)
    # What the caller holds is what this batch saw, a plain datetime (not the SQL that guarded it).
    assert found["u1"].last_message_at == at(5)


def test_one_user_alone_is_read_by_the_update_that_moves_its_time():
    channel = ChannelFactory()
    client = ClientFactory(channel=channel, external_id="u1", last_message_at=at(1))
    meanwhile = StoredMeanwhile(client.pk, at(10))
    with connection.execute_wrapper(meanwhile), CaptureQueriesContext(connection) as queries:
        found = upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=at(5))])
    # Another worker's later time, stored before our statement, is kept and is what the caller holds.
    client.refresh_from_db()
    assert client.last_message_at == found["u1"].last_message_at == at(10)
    # The other worker's UPDATE and ours: no SELECT.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE", "UPDATE"]
    found = upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=at(20))])
    client.refresh_from_db()
    assert client.last_message_at == found["u1"].last_message_at == at(20)


def test_an_earlier_time_stored_meanwhile_is_overtaken():
    channel = ChannelFactory()
    client = ClientFactory(channel=channel, external_id="u1", last_message_at=at(1))
    with connection.execute_wrapper(StoredMeanwhile(client.pk, at(2))):
        upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=at(5))])
    client.refresh_from_db()
    assert client.last_message_at == at(5)


def test_a_user_whose_name_alone_changed_keeps_a_time_stored_meanwhile():
    """u1's time and u2's name change in one batch: u2's time, which the batch leaves as it read it, is not
    written back over a later one (a bulk UPDATE writes every listed field of every row it touches)."""
    channel = ChannelFactory()
    ClientFactory(channel=channel, external_id="u1", last_message_at=at(1))
    u2 = ClientFactory(channel=channel, external_id="u2", display_name="Old", last_message_at=at(1))
    with connection.execute_wrapper(StoredMeanwhile(u2.pk, at(20))):
        upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=at(5)), Sighting("u2", display_name="New")])
    u2.refresh_from_db()
    assert (u2.display_name, u2.last_message_at) == ("New", at(20))
    assert Client.objects.get(channel=channel, external_id="u1").last_message_at == at(5)


def test_a_user_never_seen_writing_stays_without_a_time():
    channel = ChannelFactory()
    ClientFactory(channel=channel, external_id="u1", last_message_at=at(1))
    silent = ClientFactory(channel=channel, external_id="u2", display_name="Old", last_message_at=None)
    upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=at(5)), Sighting("u2", display_name="New")])
    silent.refresh_from_db()
    assert (silent.display_name, silent.last_message_at) == ("New", None)


@pytest.mark.parametrize(
    ("stored", "seen", "kept"),
    [
        (at(1), at(1) + dt.timedelta(microseconds=500_000), at(1) + dt.timedelta(microseconds=500_000)),
        (at(1) + dt.timedelta(microseconds=500_000), at(1), at(1) + dt.timedelta(microseconds=500_000)),
        (at(1) + dt.timedelta(microseconds=1), at(2), at(2)),
    ],
    ids=["whole-then-fraction", "fraction-then-whole", "fraction-then-later-whole"],
)
def test_times_with_and_without_fractions_of_a_second_compare_as_times(stored, seen, kept):
    """SQLite keeps datetimes as text, and a whole second has no fraction in it: the guard must still compare
    them as times."""
    channel = ChannelFactory()
    client = ClientFactory(channel=channel, external_id="u1", last_message_at=at(0))
    with connection.execute_wrapper(StoredMeanwhile(client.pk, stored)):
        upsert_clients(channel=channel, sightings=[Sighting("u1", seen_at=seen)])
    client.refresh_from_db()
    assert client.last_message_at == kept
