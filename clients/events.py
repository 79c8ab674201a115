"""Bot events (the outbox). Minimal stand-in with the inbound work's signature; that version replaces this one."""

import uuid
from typing import Any

from django.utils import timezone

from .models import BotEvent, Channel, Client, Project


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
) -> BotEvent:
    """Write one bot event to the outbox, at most once per `dedupe_key`."""
    now = timezone.now()
    event_id = uuid.uuid4()
    body = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "account": account,
        "client": None,
        "text": text,
        "data": data or {},
    }
    pushed = bool(project.callback_url)
    event, _created = BotEvent.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "uuid": event_id,
            "project": project,
            "channel": channel,
            "client": client,
            "type": event_type,
            "body": body,
            "status": BotEvent.DeliveryStatus.PENDING if pushed else BotEvent.DeliveryStatus.NOT_PUSHED,
            "next_attempt_at": now if pushed else None,
        },
    )
    return event
