"""What the direct-message events do (`im_*`): a user wrote (text, a button tap, a shared video, an image), a user in
a restricted region wrote, the business sent a message, the user read the conversation.

Decisions (contracts other parts rely on):
- A batch's user messages are written set-wise (`receive_messages`): one statement per kind of row for all of
  them, with the result of applying them one at a time (the hot path of a busy account, B10).
- Echoes of our own API sends (`im_send_msg`, `message_tag.source = API`, or no source at all) never create a
  message row: the send service owns that row and records TikTok's message id when TikTok answers. An echo that
  arrives first finds no row and is journaled with a note; one that arrives later marks a queued row sent.
- A person's message from the TikTok app (`APP`/`WEB`) is logged once as an operator message, takes one message
  of the window (logged even when the window is already used up) and is told to the bot as `operator.message`.
- A read receipt emits one `message.status` (`read`) per outbound message it marks read, keyed by that message,
  so the bot can update each send it tracks and never hears twice about one.
- A reaction is not a message: it emits `client.reaction`, writes no message row and moves no window. A message
  without `message_id` is logged and told under a digest of what identifies it (wire.message_key).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db.models import Q
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.messaging import fallback, queue, window, window_events
from channels_tiktok.models import Conversation, WebhookEvent
from channels_tiktok.tiktok.client import TikTokError
from channels_tiktok.webhooks import client_state, echoes, media, wire
from channels_tiktok.webhooks.auto_echoes import auto_message_echo
from channels_tiktok.webhooks.inbound import (
    PROCESSED,
    Inbound,
    Outcome,
    id_in,
    ignored,
    log_message,
    object_of,
    save_bot_events,
    text_body,
    upsert_conversation,
    upsert_user,
)
from channels_tiktok.webhooks.received import Received, message_type, read_received
from clients import services
from clients.models import BotEvent, Client, Message

logger = logging.getLogger(__name__)

BLOCKED_REASON = "restricted_region"
BLOCKED_NOTE = (
    "A user in the EEA, Switzerland, the UK or the US wrote; TikTok does not deliver the content of such messages."
)


def fetch_media(inbound: Inbound) -> dict:
    """An inbound image's or video's media id and download URL (valid 24 h). Without a usable token the reference
    is kept and the failure noted: the message still reaches the bot."""
    kind_of_message = message_type(inbound.content)
    media_type = constants.MEDIA_MESSAGE_TYPES.get(kind_of_message)
    if media_type is None:
        return {}
    media_id = id_in(inbound.content, kind_of_message, "media_id")
    reference: dict[str, Any] = {"media_id": media_id}
    if not media_id:
        return {kind_of_message: reference}
    try:
        reference["url"] = tokens.call(
            inbound.account,
            lambda client: client.media_download_url(
                business_id=inbound.account.business_id,
                conversation_id=id_in(inbound.content, "conversation_id"),
                message_id=id_in(inbound.content, "message_id"),
                media_id=media_id,
                media_type=media_type,
            ),
        )
    except (TikTokError, tokens.AccountUnavailableError) as exc:
        logger.warning(
            "tiktok.webhook.media_download_failed",
            extra={"webhook_event": inbound.event.pk, "error": type(exc).__name__},
        )
        reference["error"] = str(getattr(exc, "message", None) or getattr(exc, "reason", None) or exc)
    return {kind_of_message: reference}


def receive_messages(inbounds: list[Inbound]) -> list[Outcome]:
    """im_receive_msg, rows in arrival order: a user wrote. Client, variables, conversation, window, message log,
    `client.message`.

    Written set-wise: one statement per kind of row for all of them (clients, variables, conversations, windows,
    messages, bot events), whatever their number; the result is that of applying them one after another. This is
    the hot path of a busy account (B10)."""
    read = [read_received(inbound) for inbound in inbounds]
    received = [item for item in read if isinstance(item, Received)]
    if received:
        _write_received(received)
    return [item.outcome if isinstance(item, Received) else item for item in read]


def receive_message(inbound: Inbound) -> Outcome:
    return receive_messages([inbound])[0]


def _write_received(received: list[Received]) -> None:
    by_channel: dict[int, list[Received]] = {}
    for item in received:
        by_channel.setdefault(item.inbound.channel.pk, []).append(item)
    for items in by_channel.values():
        sightings = [services.Sighting(external_id=i.external_id, username=i.username, seen_at=i.at) for i in items]
        clients = services.upsert_clients(channel=items[0].inbound.channel, sightings=sightings)
        for item in items:
            item.client = clients[item.external_id]
    # One SELECT for what the writes below need to know of the clients (webhooks/client_state.py).
    typed = [item for item in received if item.kind == Message.Kind.TEXT and fallback.may_be_tap(item.text)]
    states = client_state.read(list({item.client.pk: item.client for item in received}.values()), cards=bool(typed))
    merged = services.merge_variables_many(
        [(item.client, item.variables) for item in received],
        stored={pk: state.variables for pk, state in states.items()},
    )
    for item in typed:
        _typed_tap(item, states[item.client.pk].card)

    # Each client's conversation as its last message says, and its newest message for the window. A reaction is
    # not a message (it moves no window); a message without a conversation id names no conversation.
    messages = [item for item in received if not item.is_reaction]
    latest: dict[int, Received] = {}
    newest: dict[int, dt.datetime] = {}
    for item in messages:
        if item.conversation_id:
            latest[item.client.pk] = item
            newest[item.client.pk] = max(item.at, newest.get(item.client.pk, item.at))
    # The windows as they were, for window.opened (existing conversations only: a first contact opens none).
    before = {client_id: opened for client_id in latest if (opened := states[client_id].window) is not None}
    window.upsert_conversations(
        [
            (item.client.pk, item.inbound.account.pk, item.conversation_id, newest[pk])
            for pk, item in sorted(latest.items())
        ]
    )
    # Messages queued for the next window go out at commit, before the pushes of the events written below.
    queue.flush_after_commit(sorted(client_id for client_id in latest if states[client_id].queued))
    # window.opened first: the bot hears that a window opened before it hears the message that opened it.
    save_bot_events(_opened_events(before=before, newest=newest, latest=latest))

    # Logged once per TikTok id (or digest): INSERT … ON CONFLICT DO NOTHING (a replay changes nothing).
    Message.objects.bulk_create(
        [
            Message(
                channel=item.inbound.channel,
                client=item.client,
                direction=Message.Direction.INBOUND,
                external_id=item.message_id,
                kind=item.kind,
                source=Message.Source.CLIENT,
                status=Message.Status.RECEIVED,
                text=item.text,
                payload=item.payload,
            )
            for item in messages
        ],
        ignore_conflicts=True,
    )
    media.queue_copies(
        [(item.inbound.channel.pk, item.message_id) for item in messages if media.has_media(item.kind, item.payload)]
    )
    save_bot_events(
        [
            item.inbound.bot_event(
                item.bot_event_type, client=item.client, text=item.text, data=item.data, variables=variables
            )
            for item, (variables, _changed) in zip(received, merged, strict=True)
        ]
    )


def _typed_tap(item: Received, card: tuple[dict, str] | None) -> None:
    """A typed reply naming a button of the last card listed as text (`card`) becomes a tap of that button."""
    tap = fallback.tap_in(*card, item.text) if card is not None else None
    if tap is None:
        return
    details = {
        "button_id": tap.button_id,
        "button_message_id": tap.card_external_id,
        "matched_from_text": True,
        "typed_text": item.text,
    }
    item.kind, item.text = Message.Kind.BUTTON_TAP, tap.text
    item.data.update(details)
    item.payload.update(details)


def _opened_events(
    *,
    before: dict[int, tuple[int, dt.datetime | None, int]],
    newest: dict[int, dt.datetime],
    latest: dict[int, Received],
) -> list:
    """`window.opened` for clients whose window was closed or used up when they wrote again."""
    built = []
    for client_id, (conversation_pk, last_inbound_at, sent) in sorted(before.items()):
        at = newest[client_id]
        if last_inbound_at is None or at <= last_inbound_at:
            continue  # first contact (no window to reopen) or an older message replayed
        previous = window_events.previous_window(last_inbound_at, sent, at=at)
        if previous is None:
            continue
        item = latest[client_id]
        data = window_events.opened_data(item.conversation_id, window_start=at, previous=previous)
        key = window_events.dedupe_key(conversation_pk, at, window_events.OPENED)
        built.append(item.inbound.bot_event(BotEvent.Type.WINDOW_OPENED, client=item.client, data=data, key=key))
    return built


def receive_message_restricted(inbound: Inbound) -> Outcome:
    """im_receive_msg_eu: TikTok stripped the content (R4). Logged with the reason; the bot is told; no client."""
    already = Message.objects.filter(
        channel=inbound.channel, kind=Message.Kind.BLOCKED, payload__webhook_event=inbound.event.pk
    ).exists()
    if not already:
        Message.objects.create(
            channel=inbound.channel,
            client=None,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.BLOCKED,
            source=Message.Source.CLIENT,
            status=Message.Status.BLOCKED,
            error_code=BLOCKED_REASON,
            error_message=BLOCKED_NOTE,
            payload={"webhook_event": inbound.event.pk, "reason": BLOCKED_REASON},
        )
    inbound.emit(
        BotEvent.Type.CLIENT_MESSAGE_BLOCKED,
        client=None,
        data={"reason": BLOCKED_REASON, "message": BLOCKED_NOTE, "timestamp": inbound.at().isoformat()},
    )
    return Outcome(WebhookEvent.Status.PROCESSED, BLOCKED_REASON)


def _conversation_client(inbound: Inbound, conversation_id: str) -> tuple[Conversation | None, Client | None]:
    conversation = (
        Conversation.objects.select_related("client")
        .filter(account=inbound.account, conversation_id=conversation_id)
        .first()
    )
    return conversation, (conversation.client if conversation else None)


def send_echo(inbound: Inbound) -> Outcome:
    """im_send_msg: the business sent a message, through our API or from the TikTok app."""
    content = inbound.content
    message_id = wire.message_key(inbound.envelope)
    conversation_id = id_in(content, "conversation_id")
    source = object_of(content, "message_tag").get("source")
    source = source.strip().upper() if isinstance(source, str) else ""
    if content.get("auto_message_type"):  # TikTok's own automatic message: the account's, no slot, no event
        return auto_message_echo(inbound, str(content["auto_message_type"]))
    if source not in (constants.SEND_SOURCE_APP, constants.SEND_SOURCE_WEB):
        updated = Message.objects.filter(
            channel=inbound.channel,
            direction=Message.Direction.OUTBOUND,
            external_id=message_id,
            status=Message.Status.QUEUED,
        ).update(status=Message.Status.SENT, sent_at=inbound.at())
        if updated or Message.objects.filter(channel=inbound.channel, external_id=message_id).exists():
            return PROCESSED
        if message_id and echoes.reconcile_queued_send(inbound, conversation_id=conversation_id, message_id=message_id):
            return Outcome(WebhookEvent.Status.PROCESSED, "echo of our own send recorded it as sent")
        return Outcome(WebhookEvent.Status.PROCESSED, "echo of our own send; the send service records the message")

    conversation, client = _conversation_client(inbound, conversation_id) if conversation_id else (None, None)
    variables: dict[str, str] | None = None  # read with the bot event unless written here
    if conversation is None or client is None:
        # The echo's unique_identifier is the business (the sender): the client is the recipient.
        external_id = id_in(content, "to_user", "id")
        if not (external_id and conversation_id):
            return Outcome(WebhookEvent.Status.FAILED, "operator message to an unknown conversation and user")
        recipient = got if isinstance(got := content.get("to"), str) else ""
        client = upsert_user(inbound, external_id=external_id, username=recipient, display_name="", seen_at=None)
        variables, _changed = services.merge_variables(
            client=client, values={constants.VAR_CONVERSATION_ID: conversation_id}
        )
        conversation = upsert_conversation(inbound, client=client, conversation_id=conversation_id)

    kind_of_message = message_type(content)
    text = text_body(content)
    kind = {constants.MSG_TYPE_TEXT: Message.Kind.TEXT, constants.MSG_TYPE_IMAGE: Message.Kind.IMAGE}.get(
        kind_of_message, Message.Kind.UNSUPPORTED
    )
    # One message of the window, taken before the message is logged so that the log says whether it fit. A new
    # client's conversation was created just now, without a window.
    reserved = not client.created_here and window.reserve(conversation)
    payload = {"type": kind_of_message, "source": source, "webhook_event": inbound.event.pk}
    note = ""
    if not reserved:
        # The person sent it anyway: keep it in the log and say why the quota looks over-used.
        note = "sent from the TikTok app with the window already used up or closed"
        payload["window_exceeded"] = True
    created = log_message(
        inbound,
        Message(
            client=client,
            direction=Message.Direction.OUTBOUND,
            external_id=message_id,
            kind=kind,
            source=Message.Source.OPERATOR,
            status=Message.Status.SENT,
            text=text,
            sent_at=inbound.at(),
            payload=payload,
        ),
    )
    if not created:  # logged already (a replay): it took its message of the window then
        note = ""
        if reserved:
            window.unreserve(conversation)
    inbound.emit(
        BotEvent.Type.OPERATOR_MESSAGE,
        client=client,
        variables=variables,
        text=text,
        data={
            "message_id": "" if message_id.startswith("digest:") else message_id,
            "conversation_id": conversation_id,
            "type": kind_of_message,
            "source": source,
        },
    )
    return Outcome(WebhookEvent.Status.PROCESSED, note)


def mark_read(inbound: Inbound) -> Outcome:
    """im_mark_read_msg: the user read the conversation; our outbound messages up to then become `read`."""
    conversation_id = id_in(inbound.content, "conversation_id")
    _, client = _conversation_client(inbound, conversation_id) if conversation_id else (None, None)
    if client is None:
        return ignored(f"read receipt for an unknown conversation {conversation_id!r}")
    # Seconds or milliseconds (wire.as_time); never later than now; without it, when the event happened.
    read_at = wire.as_time(object_of(inbound.content, "read").get("last_read_timestamp"))
    read_at = min(read_at, timezone.now()) if read_at is not None else inbound.at()
    unread = list(
        Message.objects.filter(
            client=client,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SENT, Message.Status.DELIVERED],
        )
        .filter(Q(sent_at__lte=read_at) | Q(sent_at__isnull=True, created_at__lte=read_at))
        .order_by("id")
    )
    Message.objects.filter(pk__in=[message.pk for message in unread]).update(
        status=Message.Status.READ, read_at=read_at
    )
    for message in unread:
        inbound.emit(
            BotEvent.Type.MESSAGE_STATUS,
            client=client,
            key=f"tiktok:message:{message.pk}:read",
            data={
                "message": message.pk,
                "message_id": message.external_id,
                "status": Message.Status.READ,
                "read_at": read_at.isoformat(),
            },
        )
    return Outcome(WebhookEvent.Status.PROCESSED, f"{len(unread)} message(s) marked read")
