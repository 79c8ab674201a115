"""Bot events: what the project's bot is told, written to the outbox once, then pushed and served by the feed.

The body is the contract documented in docs/api.md ("Bot events"):
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

# Every type of bot event and what it tells the bot (the API description lists them: api/docs.py).
EVENT_TYPES: dict[str, str] = {
    BotEvent.Type.CLIENT_MESSAGE: (
        "A client wrote (text, button tap, shared video, image, video, sticker, emoji, template, other) or "
        "commented. `text` is what the bot reads: the text, or a readable placeholder such as `[sticker]` for a "
        "message without text (never empty). `data` has `message_id`, `conversation_id`, `type` (TikTok's type), "
        "`kind` (the message kind: text, button_tap, share_post, image, video, sticker, emoji, template, other, "
        "comment) and the type's details (`url` of a sticker or emoji, `video_id` and `url` of a shared video, "
        "`image` or `video` with `media_id`, `button_id`, the raw block of a template or other message); "
        "`referenced_message_id` when the client quoted a message."
    ),
    BotEvent.Type.CLIENT_REACTION: (
        "A client reacted to a message. Not a message: it does not reopen the messaging window. `text` and "
        '`data.emoji` are the emoji; `data.message_id` is the message reacted to ("" when TikTok does not say); '
        "`data.action` is `react` (or what TikTok sent)."
    ),
    BotEvent.Type.CLIENT_REFERRAL: (
        "A client opened the conversation from an ad or a short link. `data` has `conversation_id`, `source` "
        "(`ad` or `short_link`), `ad_id`, `ad_name`, `short_link_ref` and the whole `referral` as TikTok sent it; "
        "the client's read-only variables `tiktok_referral_source`, `tiktok_ad_id`, `tiktok_ad_name` and "
        "`tiktok_short_link_ref` say the same."
    ),
    BotEvent.Type.CLIENT_HIGH_INTENT_COMMENT: (
        "TikTok flagged a client's comment as high-intent. `text` and `data.comment_text` are the comment; `data` "
        "has `comment_id`, `is_follower` (true, false or null when unknown) and `commented_at`. The comment may get "
        "one private message: POST /api/v1/clients/{id}/comment-dm/."
    ),
    BotEvent.Type.CLIENT_MESSAGE_BLOCKED: (
        "A client in a region whose messages TikTok does not deliver wrote; `data.reason` says why."
    ),
    BotEvent.Type.OPERATOR_MESSAGE: "A person sent a message from the TikTok app (not through this API).",
    BotEvent.Type.MESSAGE_STATUS: "An outbound message changed status (`data.status`: sent, failed, read).",
    BotEvent.Type.ACCOUNT_STATUS: "A connected account changed status (for example: needs reauthorisation).",
    BotEvent.Type.COMMENT_STATUS: (
        "A comment on one of the account's videos was deleted, hidden, set to friends only or made public again: "
        "`data` has `comment_id`, `video_id` and `action` (`delete`, `set_to_hidden`, `set_to_friends_only`, "
        "`set_to_public`)."
    ),
    BotEvent.Type.MESSAGE_EXPIRED: (
        "A message kept for the client's next window (`when_closed: queue`) expired unsent: the client did not "
        "write in time. `text` is its text; `data`: `queued_id`, `queued_at`, `status` (`expired`)."
    ),
    BotEvent.Type.WINDOW_CLOSING: (
        "The client's messaging window ends soon (a configurable time before, default 1 hour), with messages "
        "left. `data`: `conversation_id`, `window_started_at`, `expires_at`, `messages_left`. Once per window."
    ),
    BotEvent.Type.WINDOW_CLOSED: (
        "The client's messaging window ended: `data.reason` is `expired` (time up; `messages_left` were unused) or "
        "`exhausted` (all messages used, sent within a minute of the last one). Also `conversation_id`, "
        "`window_started_at`, `expires_at`. Once per window."
    ),
    BotEvent.Type.WINDOW_OPENED: (
        "The client wrote again after their window had closed or was used up: a new window is open. `data`: "
        "`conversation_id`, `window_started_at`, `expires_at`, `messages_left`, `previous` (`closed` or "
        "`exhausted`). Comes before the `client.message` of the message that opened it."
    ),
}


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


def build(
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
    """One bot event, not saved yet (`save` writes it)."""
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
    return BotEvent(
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


def save(built: list[BotEvent], *, new_keys: bool = False) -> list[BotEvent]:
    """Write built events to the outbox, each at most once per `dedupe_key`; delivery is queued after commit.
    Returns the stored events in order: an event whose key exists already (a replayed webhook) is the stored
    one, unchanged, so the bot never hears about one fact twice from us (a push can still repeat after a lost
    2xx: use X-Event-Id).

    `new_keys`: the caller knows none of these keys can exist yet (made from journal rows on their first
    attempt), so they go in one INSERT without savepoints. Were it wrong, the INSERT fails and so does the
    caller's transaction, which is retried later without the flag: never a second event.
    """
    stored = BotEvent.objects.bulk_create(built) if new_keys else [_save_once(event) for event in built]
    for event, new in zip(stored, built, strict=True):
        if event is not new:
            continue  # already stored: its delivery was queued when it was
        logger.debug(
            "bot_event.emitted", extra={"bot_event": event.pk, "type": event.type, "project": event.project_id}
        )
        if event.status == BotEvent.DeliveryStatus.PENDING:
            transaction.on_commit(functools.partial(delivery.enqueue, event.pk))
    return stored


def _save_once(event: BotEvent) -> BotEvent:
    try:
        # Insert first, look only on a conflict: the usual case (a new event) is one INSERT. The savepoint keeps
        # the caller's transaction usable when the key exists.
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        existing = BotEvent.objects.filter(dedupe_key=event.dedupe_key).first()
        if existing is None:
            raise  # not the dedupe key: a real integrity problem
        return existing
    return event


def emit(*, new_key: bool = False, **fields: Any) -> BotEvent:
    """Build and save one bot event (see `build` for the fields, `save` for `new_key`)."""
    return save([build(**fields)], new_keys=new_key)[0]
