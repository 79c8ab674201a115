"""Bot events: what the project's bot is told, written to the outbox once, then pushed and served by the feed.

The body is the contract of `architecture.md` ("Bot events"):
`{"id", "type", "created_at", "account": {...}, "client": {...} | null, "text", "data"}`.
`clients` knows no channel, so the caller passes the account part as a plain dict.
"""

import functools
import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import delivery
from .models import BotEvent, Channel, Client, Project
from .variables import variables_of

logger = logging.getLogger(__name__)


def client_part(client: Client | None, *, variables: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The body's `client`; `variables` are the client's current variables when the caller has them at hand."""
    if client is None:
        return None
    return {
        "id": client.pk,
        "external_id": client.external_id,
        "display_name": client.display_name,
        "variables": variables_of(client) if variables is None else variables,
    }


def emit(
    *,
    project: Project,
    event_type: str,
    dedupe_key: str,
    account: dict[str, Any],
    channel: Channel | None = None,
    client: Client | None = None,
    text: str = "",
    data: dict[str, Any] | None = None,
    variables: dict[str, str] | None = None,
) -> BotEvent:
    """Write one bot event to the outbox, at most once per `dedupe_key`; delivery is queued after commit.

    Re-emitting with the same key (a replayed webhook) returns the stored event and changes nothing, so the bot
    never hears about one fact twice from us (a push can still repeat after a lost 2xx: use X-Event-Id).
    """
    now = timezone.now()
    event_id = uuid.uuid4()
    body = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "account": account,
        "client": client_part(client, variables=variables),
        "text": text,
        "data": data or {},
    }
    pushed = bool(project.callback_url)
    try:
        # Insert first, look only on a conflict: the usual case (a new event) is one INSERT. The savepoint keeps
        # the caller's transaction usable when the key exists.
        with transaction.atomic():
            event = BotEvent.objects.create(
                uuid=event_id,
                project=project,
                channel=channel,
                client=client,
                type=event_type,
                body=body,
                dedupe_key=dedupe_key,
                status=BotEvent.DeliveryStatus.PENDING if pushed else BotEvent.DeliveryStatus.NOT_PUSHED,
                next_attempt_at=now if pushed else None,
            )
    except IntegrityError:
        existing = BotEvent.objects.filter(dedupe_key=dedupe_key).first()
        if existing is None:
            raise  # not the dedupe key: a real integrity problem
        return existing
    logger.debug("bot_event.emitted", extra={"bot_event": event.pk, "type": event_type, "project": project.pk})
    if pushed:
        transaction.on_commit(functools.partial(delivery.enqueue, event.pk))
    return event
