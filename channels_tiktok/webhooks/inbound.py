"""One journal row being processed (`Inbound`), the outcome journaled for it, and what every event's handler
shares: reading the payload, upserting the user and the conversation, logging messages, emitting bot events.

Every handler works from the stored journal row and is idempotent: messages are keyed by TikTok's id, bot events
by a key made of the journal row, the window only moves forward. Replaying a row changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from channels_tiktok.models import Conversation, TikTokAccount, WebhookEvent
from channels_tiktok.webhooks import wire
from clients import events, inserts, services
from clients.models import BotEvent, Channel, Client, Message


@dataclass(frozen=True)
class Outcome:
    status: str
    note: str = ""


PROCESSED = Outcome(WebhookEvent.Status.PROCESSED)


def ignored(note: str) -> Outcome:
    return Outcome(WebhookEvent.Status.IGNORED, note)


@dataclass
class Inbound:
    """One journal row being processed, with what every handler needs."""

    event: WebhookEvent
    envelope: wire.Envelope
    account: TikTokAccount
    fetched: dict[str, Any] = field(default_factory=dict)
    _emitted: dict[str, int] = field(default_factory=dict)

    @property
    def content(self) -> dict[str, Any]:
        return self.envelope.content

    @property
    def channel(self) -> Channel:
        return self.account.channel

    def at(self) -> dt.datetime:
        """When it happened by TikTok (`content.timestamp`, else the envelope's `create_time`, each in seconds or
        milliseconds: `wire.as_time`), else when we received it; never later than now."""
        now = timezone.now()
        when = wire.as_time(self.content.get("timestamp")) or wire.as_time(self.envelope.create_time)
        if when is not None:
            return min(when, now)
        return self.event.received_at or now

    def bot_event(
        self,
        event_type: str,
        *,
        client: Client | None,
        text: str = "",
        data: dict | None = None,
        key: str = "",
        variables: dict[str, str] | None = None,
    ) -> tuple[BotEvent, bool]:
        """A bot event made from this row, not saved yet, and whether its key is surely new. The n-th event of a
        type gets the same key on every replay. `variables`: the client's variables when the handler has just
        written them (saves reading them again)."""
        new_key = False
        if not key:
            number = self._emitted.get(event_type, 0)
            self._emitted[event_type] = number + 1
            key = f"tiktok:{self.event.pk}:{event_type}:{number}"
            # A row's writes commit only together with its attempt count: on its first attempt none of its
            # keys can exist yet.
            new_key = self.event.attempts == 1
        built = events.build(
            project=self.channel.project,
            event_type=event_type,
            dedupe_key=key,
            account={"id": self.account.pk, "business_id": self.account.business_id, "username": self.account.username},
            channel=self.channel,
            client=client,
            text=text,
            data=data,
            variables=variables,
        )
        return built, new_key

    def emit(self, event_type: str, **fields: Any) -> BotEvent:
        """Write one bot event of this row (see `bot_event`)."""
        built, new_key = self.bot_event(event_type, **fields)
        return events.save([built], new_keys=new_key)[0]


def save_bot_events(built: list[tuple[BotEvent, bool]]) -> None:
    """Save the bot events of many rows: those with surely new keys in one INSERT, the others one by one."""
    events.save([event for event, new_key in built if new_key], new_keys=True)
    events.save([event for event, new_key in built if not new_key])


# ------------------------------------------------------------------------------------------- shared writes
def object_of(content: dict, key: str) -> dict:
    value = content.get(key)
    return value if isinstance(value, dict) else {}


def text_body(content: dict) -> str:
    """A message's text: `text.body` as documented; a bare string `text` (or `content`) as some payloads carry."""
    text = content.get("text")
    if isinstance(text, dict):
        text = text.get("body")
    if text is None and isinstance(content.get("content"), str):
        text = content["content"]
    return text if isinstance(text, str) else ("" if text is None or isinstance(text, (dict, list)) else str(text))


def id_in(content: dict, *path: str) -> str:
    """An id nested in `content` (`id_in(content, "from_user", "id")`), "" when absent or not an id."""
    value: Any = content
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    try:
        return wire.as_id(value)
    except wire.MalformedPayloadError:
        return ""


def upsert_user(
    inbound: Inbound, *, external_id: str, username: str, display_name: str, seen_at: dt.datetime | None
) -> Client:
    # TikTok names the user only in some payloads (`from`/`to` of DMs, `username`/`display_name` of comments).
    return services.upsert_client(
        channel=inbound.channel,
        external_id=external_id,
        display_name=display_name if display_name != external_id else "",
        username=username if username != external_id else "",
        seen_at=seen_at,
    )


def upsert_conversation(inbound: Inbound, *, client: Client, conversation_id: str) -> Conversation:
    """The client's conversation, created or pointed at this account and id: one INSERT … ON CONFLICT DO UPDATE.

    Only the returned primary key is exact; the window fields of the returned object are not read (callers change
    the window with its own conditional UPDATEs)."""
    (conversation,) = Conversation.objects.bulk_create(
        [Conversation(client=client, account=inbound.account, conversation_id=conversation_id)],
        update_conflicts=True,
        unique_fields=["client"],
        update_fields=["account", "conversation_id", "updated_at"],
    )
    return conversation


def log_message(inbound: Inbound, message: Message) -> bool:
    """Log a message of this row's channel once per (direction, TikTok id); whether it is new (then `message` has
    its primary key). One INSERT … ON CONFLICT DO NOTHING … RETURNING: no read before, no savepoint."""
    message.channel = inbound.channel
    inserted = inserts.insert_new([message], returning=["id"])
    if inserted:
        message.pk, message._state.adding = inserted[0][0], False
    return bool(inserted)


def log_inbound_message(inbound: Inbound, *, external_id: str, fields: dict) -> None:
    """Log a received message once per TikTok id: one INSERT … ON CONFLICT DO NOTHING (a replay changes nothing)."""
    Message.objects.bulk_create(
        [Message(channel=inbound.channel, direction=Message.Direction.INBOUND, external_id=external_id, **fields)],
        ignore_conflicts=True,
    )
