"""What a batch of direct messages reads of its clients before writing, in one SELECT for all of them: each
client's variables (merged with what the messages say), its conversation's window as it was (for
`window.opened`), whether it has messages queued for its next window (flushed at commit), and the last button
card sent to it (a typed reply may name one of its buttons).

Read after `upsert_clients` has taken the row lock of every client whose message time moved, so the variables
are those committed by any worker that held the client before. A client created in this transaction
(`created_here`) has none of these yet: it is not read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, JSONField, OuterRef, Subquery

from channels_tiktok.messaging import fallback
from channels_tiktok.models import QueuedSend
from clients.models import Client


@dataclass
class ClientState:
    variables: dict[str, str] = field(default_factory=dict)
    # The conversation's (pk, last_inbound_at, window_sent) before this batch; None: no conversation yet.
    window: tuple[int, dt.datetime | None, int] | None = None
    queued: bool = False
    # The last button card sent to the client: (payload, TikTok's message id); None when there is none (or it was
    # not asked for).
    card: tuple[dict, str] | None = None


def read(clients: list[Client], *, cards: bool) -> dict[int, ClientState]:
    """Each client's state by pk; `cards`: read the last button card too. One query (none when every client was
    created here)."""
    states = {client.pk: ClientState() for client in clients}
    unread = sorted(client.pk for client in clients if not client.created_here)
    if not unread:
        return states
    query = Client.objects.filter(pk__in=unread).annotate(
        queued=Exists(QueuedSend.objects.filter(client_id=OuterRef("pk"), status=QueuedSend.Status.PENDING))
    )
    columns = ["pk", "queued", "variables__key", "variables__value"]
    columns += ["tiktok_conversation__pk", "tiktok_conversation__last_inbound_at", "tiktok_conversation__window_sent"]
    if cards:
        last = fallback.last_cards(OuterRef("pk"))
        query = query.annotate(
            card_payload=Subquery(last.values("payload")[:1], output_field=JSONField()),
            card_id=Subquery(last.values("id")[:1]),
            card_external_id=Subquery(last.values("external_id")[:1]),
        )
        columns += ["card_id", "card_payload", "card_external_id"]
    for row in query.values_list(*columns):
        state = states[row[0]]
        state.queued = row[1]
        if row[2] is not None:
            state.variables[row[2]] = row[3]
        if row[4] is not None:
            state.window = (row[4], row[5], row[6])
        if cards and row[7] is not None:
            state.card = (row[8] or {}, row[9] or "")
    return states
