"""The messaging window of a conversation (R5, R6), kept atomically in the database.

Whether a window is open is decided by `rules.window_verdict` alone; this module applies it to stored
conversations and keeps the count.

After each client message the business may send at most `WINDOW_MAX_MESSAGES` messages within `WINDOW_HOURS`.
Every change is a single conditional UPDATE, so concurrent senders and webhook workers never over-count,
on PostgreSQL and on SQLite alike.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import F
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.messaging.rules import WINDOW, WINDOW_CLOSED, WindowVerdict, window_verdict
from channels_tiktok.models import Conversation


def verdict(conversation: Conversation | None, *, now: dt.datetime | None = None) -> WindowVerdict:
    """`rules.window_verdict` of a stored conversation: what the bot may still send to it (B5)."""
    if conversation is None:
        return window_verdict(None, 0, now=now or timezone.now())
    return window_verdict(conversation.last_inbound_at, conversation.window_sent, now=now or timezone.now())


@dataclass(frozen=True)
class Reservation:
    """One message of a window, taken: the window's start (to give it back) and whether it was the last one."""

    window_start: dt.datetime
    last: bool


def upsert_conversations(rows: list[tuple[int, int, str, dt.datetime]]) -> None:
    """Each client's conversation (client pk, account pk, conversation id, its newest client message) created or
    moved to that account and id, its window opened by that message if newer than the one it has: one
    INSERT … ON CONFLICT DO UPDATE for all of them (a window a replay re-opens does not start again)."""
    if not rows:
        return
    table = connection.ops.quote_name(Conversation._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    newer = f"({table}.last_inbound_at IS NULL OR {table}.last_inbound_at < EXCLUDED.last_inbound_at)"
    params: list = []
    for client_id, account_id, conversation_id, at in rows:
        params += [client_id, account_id, conversation_id, connection.ops.adapt_datetimefield_value(at), now]
    values = ", ".join(["(%s, %s, %s, %s, 0, NULL, NULL, %s)"] * len(rows))
    # Only the table name and placeholders are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {table} (client_id, account_id, conversation_id, last_inbound_at, window_sent,"  # noqa: S608
        f" image_send_allowed, image_checked_at, updated_at) VALUES {values}"
        " ON CONFLICT (client_id) DO UPDATE SET account_id = EXCLUDED.account_id,"
        " conversation_id = EXCLUDED.conversation_id, updated_at = EXCLUDED.updated_at,"
        f" window_sent = CASE WHEN {newer} THEN 0 ELSE {table}.window_sent END,"
        f" last_inbound_at = CASE WHEN {newer} THEN EXCLUDED.last_inbound_at ELSE {table}.last_inbound_at END"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def reserve(conversation: Conversation, *, now: dt.datetime | None = None) -> bool:
    """Take one message of the current window; False if the window is closed or used up. One conditional UPDATE
    (exact under concurrency: the row is locked and the condition checked on its latest version); it holds the
    row until commit, so `unreserve` in the same transaction gives back exactly this message."""
    now = now or timezone.now()
    return bool(
        Conversation.objects.filter(
            pk=conversation.pk,
            last_inbound_at__gt=now - WINDOW,
            window_sent__lt=constants.WINDOW_MAX_MESSAGES,
        ).update(window_sent=F("window_sent") + 1, updated_at=now)
    )


def unreserve(conversation: Conversation) -> None:
    """Give back the message `reserve` took in this transaction (its UPDATE still holds the row)."""
    Conversation.objects.filter(pk=conversation.pk, window_sent__gt=0).update(
        window_sent=F("window_sent") - 1, updated_at=timezone.now()
    )


def reserve_slot(
    conversation: Conversation, *, now: dt.datetime | None = None, take_last: bool = True
) -> Reservation | None:
    """`reserve`, saying whether the slot taken was the window's last. Two conditional UPDATEs: one of the
    first nine slots, else (when `take_last`) exactly the tenth, so the answer is exact under concurrency."""
    now = now or timezone.now()
    current = Conversation.objects.filter(pk=conversation.pk).values_list("last_inbound_at", flat=True).first()
    if current is None or window_verdict(current, 0, now=now).state == WINDOW_CLOSED:
        return None
    mine = Conversation.objects.filter(pk=conversation.pk, last_inbound_at=current)
    last_slot = constants.WINDOW_MAX_MESSAGES - 1
    if mine.filter(window_sent__lt=last_slot).update(window_sent=F("window_sent") + 1, updated_at=now):
        return Reservation(window_start=current, last=False)
    if take_last and mine.filter(window_sent=last_slot).update(window_sent=F("window_sent") + 1, updated_at=now):
        return Reservation(window_start=current, last=True)
    return None


def release(conversation: Conversation, *, window_start: dt.datetime) -> None:
    """Give back a reserved message, only to the window it was taken from."""
    Conversation.objects.filter(pk=conversation.pk, last_inbound_at=window_start, window_sent__gt=0).update(
        window_sent=F("window_sent") - 1, updated_at=timezone.now()
    )
