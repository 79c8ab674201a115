"""What each TikTok webhook event does: a table from event name to handler, plus the events we ignore on purpose.

Every handler works from the stored journal row and is idempotent: messages are keyed by TikTok's id, bot events
by a key made of the journal row, the window only moves forward. Replaying a row changes nothing twice.

Processing has two steps: `prepare` reads and asks TikTok what the event does not carry (a comment's text, an
image's download URL) outside any transaction, so no lock is held during a remote call; `apply` then writes
everything in one transaction, under the journal row's lock (see journal.process_event). A worker's batch goes
through `apply_many`: consecutive direct messages are written set-wise (`receive_messages`), with the result of
applying them one at a time.

Decisions (contracts other parts rely on):
- Echoes of our own API sends (`im_send_msg`, `message_tag.source = API`, or no source at all) never create a
  message row: the send service owns that row and records TikTok's message id when TikTok answers. An echo that
  arrives first finds no row and is journaled with a note; one that arrives later marks a queued row sent.
- A person's message from the TikTok app (`APP`/`WEB`) is logged once as an operator message, takes one message
  of the window (logged even when the window is already used up) and is told to the bot as `operator.message`.
- A read receipt emits one `message.status` (`read`) per outbound message it marks read, keyed by that message,
  so the bot can update each send it tracks and never hears twice about one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Q
from django.utils import timezone

from clients import events, services
from clients.models import BotEvent, Client, Message

from . import constants, tokens, webhooks, window
from .client import TikTokError
from .models import Conversation, TikTokAccount, WebhookEvent

logger = logging.getLogger(__name__)

BLOCKED_REASON = "restricted_region"
BLOCKED_NOTE = (
    "A user in the EEA, Switzerland, the UK or the US wrote; TikTok does not deliver the content of such messages."
)


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
    envelope: webhooks.Envelope
    account: TikTokAccount
    fetched: dict[str, Any] = field(default_factory=dict)
    _emitted: dict[str, int] = field(default_factory=dict)

    @property
    def content(self) -> dict[str, Any]:
        return self.envelope.content

    @property
    def channel(self):
        return self.account.channel

    def at(self) -> dt.datetime:
        """When it happened by TikTok (`content.timestamp`, ms), never later than now."""
        now = timezone.now()
        millis = self.content.get("timestamp")
        if isinstance(millis, int) and not isinstance(millis, bool) and millis > 0:
            return min(dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC), now)
        if self.envelope.create_time:
            return min(dt.datetime.fromtimestamp(self.envelope.create_time, tz=dt.UTC), now)
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


def _save_bot_events(built: list[tuple[BotEvent, bool]]) -> None:
    """Save the bot events of many rows: those with surely new keys in one INSERT, the others one by one."""
    events.save([event for event, new_key in built if new_key], new_keys=True)
    events.save([event for event, new_key in built if not new_key])


# ------------------------------------------------------------------------------------------- helpers
def _object(content: dict, key: str) -> dict:
    value = content.get(key)
    return value if isinstance(value, dict) else {}


def _text_body(content: dict) -> str:
    text = content.get("text")
    if isinstance(text, dict):
        return str(text.get("body") or "")
    return str(text or "")


def _is_follower(content: dict) -> str | None:
    value = content.get("is_follower")
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip().lower() == "true"
    return "True" if value else "False"


def _upsert_user(
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


def _upsert_conversation(inbound: Inbound, *, client: Client, conversation_id: str) -> Conversation:
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


def _log_message(inbound: Inbound, *, external_id: str, direction: str, defaults: dict) -> tuple[Message, bool]:
    return Message.objects.get_or_create(
        channel=inbound.channel, direction=direction, external_id=external_id, defaults=defaults
    )


def _log_inbound_message(inbound: Inbound, *, external_id: str, fields: dict) -> None:
    """Log a received message once per TikTok id: one INSERT … ON CONFLICT DO NOTHING (a replay changes nothing)."""
    Message.objects.bulk_create(
        [Message(channel=inbound.channel, direction=Message.Direction.INBOUND, external_id=external_id, **fields)],
        ignore_conflicts=True,
    )


def fetch_image(inbound: Inbound) -> dict:
    """An inbound image's media id and download URL (valid 24 h). Without a usable token the reference is kept
    and the failure noted: the message still reaches the bot."""
    if inbound.content.get("type") != constants.MSG_TYPE_IMAGE:
        return {}
    media_id = webhooks.as_id(_object(inbound.content, "image").get("media_id"))
    reference: dict[str, Any] = {"media_id": media_id}
    if not media_id:
        return {"image": reference}
    try:
        reference["url"] = tokens.call(
            inbound.account,
            lambda client: client.media_download_url(
                business_id=inbound.account.business_id,
                conversation_id=inbound.envelope.id_of("conversation_id"),
                message_id=inbound.envelope.id_of("message_id"),
                media_id=media_id,
            ),
        )
    except (TikTokError, tokens.AccountUnavailableError) as exc:
        logger.warning(
            "tiktok.webhook.media_download_failed",
            extra={"webhook_event": inbound.event.pk, "error": type(exc).__name__},
        )
        reference["error"] = str(getattr(exc, "message", None) or getattr(exc, "reason", None) or exc)
    return {"image": reference}


# ------------------------------------------------------------------------------------------- handlers
@dataclass
class _Received:
    """What one im_receive_msg says, read before anything is written."""

    inbound: Inbound
    message_id: str
    conversation_id: str
    external_id: str
    username: str
    at: dt.datetime
    variables: dict[str, str]
    kind: str
    text: str
    data: dict[str, Any]
    payload: dict[str, Any]
    outcome: Outcome
    client: Client | None = None


def _read_received(inbound: Inbound) -> _Received | Outcome:
    content = inbound.content
    message_id = inbound.envelope.id_of("message_id")
    conversation_id = inbound.envelope.id_of("conversation_id")
    sender = _object(content, "from_user")
    external_id = webhooks.as_id(content.get("unique_identifier")) or webhooks.as_id(sender.get("id"))
    if not (message_id and conversation_id and external_id):
        return Outcome(WebhookEvent.Status.FAILED, "im_receive_msg without message_id, conversation_id or sender")
    variables = {constants.VAR_CONVERSATION_ID: conversation_id}
    follower = _is_follower(content)
    if follower is not None:
        variables[constants.VAR_IS_FOLLOWER] = follower

    message_type = str(content.get("type") or "")
    data: dict[str, Any] = {"message_id": message_id, "conversation_id": conversation_id, "type": message_type}
    payload: dict[str, Any] = {"type": message_type, "webhook_event": inbound.event.pk}
    text = ""
    kind = Message.Kind.TEXT
    outcome = PROCESSED
    reply_source = _object(content, "reply_source_payload")
    if message_type == constants.MSG_TYPE_TEXT and reply_source:
        # A button tap: the body is the button's text; the unique id is the button id we sent.
        kind = Message.Kind.BUTTON_TAP
        text = _text_body(content)
        data["button_id"] = webhooks.as_id(reply_source.get("reply_source_unique_id"))
        data["button_message_id"] = webhooks.as_id(reply_source.get("reply_source_msg_id"))
    elif message_type == constants.MSG_TYPE_TEXT:
        text = _text_body(content)
    elif message_type == constants.MSG_TYPE_SHARE_POST:
        kind = Message.Kind.SHARE_POST
        share = _object(content, "share_post")
        video_id = webhooks.as_id(share.get("video_id"))
        url = str(share.get("embed_url") or share.get("share_url") or "")
        text = f"{constants.CALLBACK_SHARE_POST} {video_id} {url}".strip()
        data.update(video_id=video_id, url=url)
    elif message_type == constants.MSG_TYPE_IMAGE:
        kind = Message.Kind.IMAGE
        data["image"] = payload["image"] = inbound.fetched.get("image", {})
    else:
        kind = Message.Kind.UNSUPPORTED
        data["unsupported"] = True
        outcome = Outcome(WebhookEvent.Status.PROCESSED, f"unsupported message type {message_type!r}")
    payload.update({key: value for key, value in data.items() if key not in ("message_id", "type")})
    username = str(content.get("from") or "")
    return _Received(
        inbound=inbound,
        message_id=message_id,
        conversation_id=conversation_id,
        external_id=external_id,
        # TikTok names the user only in some payloads; a "name" that is the id itself is none.
        username=username if username != external_id else "",
        at=inbound.at(),
        variables=variables,
        kind=kind,
        text=text,
        data=data,
        payload=payload,
        outcome=outcome,
    )


def receive_messages(inbounds: list[Inbound]) -> list[Outcome]:
    """im_receive_msg, rows in arrival order: a user wrote. Client, variables, conversation, window, message log,
    `client.message`.

    Written set-wise: one statement per kind of row for all of them (clients, variables, conversations, windows,
    messages, bot events), whatever their number; the result is that of applying them one after another. This is
    the hot path of a busy account (B10)."""
    read = [_read_received(inbound) for inbound in inbounds]
    received = [item for item in read if isinstance(item, _Received)]
    if received:
        _write_received(received)
    return [item.outcome if isinstance(item, _Received) else item for item in read]


def receive_message(inbound: Inbound) -> Outcome:
    return receive_messages([inbound])[0]


def _write_received(received: list[_Received]) -> None:
    by_channel: dict[int, list[_Received]] = {}
    for item in received:
        by_channel.setdefault(item.inbound.channel.pk, []).append(item)
    for items in by_channel.values():
        sightings = [services.Sighting(external_id=i.external_id, username=i.username, seen_at=i.at) for i in items]
        clients = services.upsert_clients(channel=items[0].inbound.channel, sightings=sightings)
        for item in items:
            item.client = clients[item.external_id]
    merged = services.merge_variables_many([(item.client, item.variables) for item in received])

    # Each client's conversation as its last row says, and its newest message for the window.
    latest: dict[int, _Received] = {}
    newest: dict[int, dt.datetime] = {}
    for item in received:
        latest[item.client.pk] = item
        newest[item.client.pk] = max(item.at, newest.get(item.client.pk, item.at))
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(client=item.client, account=item.inbound.account, conversation_id=item.conversation_id)
            for _pk, item in sorted(latest.items())
        ],
        update_conflicts=True,
        unique_fields=["client"],
        update_fields=["account", "conversation_id", "updated_at"],
    )
    # Only the primary keys of the upserted rows are exact: the window changes by its own conditional UPDATE.
    window.open_windows({conversation.pk: newest[conversation.client_id] for conversation in conversations})

    # Logged once per TikTok id: INSERT … ON CONFLICT DO NOTHING (a replay changes nothing).
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
            for item in received
        ],
        ignore_conflicts=True,
    )
    _save_bot_events(
        [
            item.inbound.bot_event(
                BotEvent.Type.CLIENT_MESSAGE, client=item.client, text=item.text, data=item.data, variables=variables
            )
            for item, (variables, _changed) in zip(received, merged, strict=True)
        ]
    )


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
    message_id = inbound.envelope.id_of("message_id")
    conversation_id = inbound.envelope.id_of("conversation_id")
    source = str(_object(content, "message_tag").get("source") or "").upper()
    if source not in (constants.SEND_SOURCE_APP, constants.SEND_SOURCE_WEB):
        updated = Message.objects.filter(
            channel=inbound.channel,
            direction=Message.Direction.OUTBOUND,
            external_id=message_id,
            status=Message.Status.QUEUED,
        ).update(status=Message.Status.SENT, sent_at=inbound.at())
        if updated or Message.objects.filter(channel=inbound.channel, external_id=message_id).exists():
            return PROCESSED
        return Outcome(WebhookEvent.Status.PROCESSED, "echo of our own send; the send service records the message")

    if not message_id:
        return Outcome(WebhookEvent.Status.FAILED, "operator message without message_id")
    conversation, client = _conversation_client(inbound, conversation_id)
    if client is None:
        # The echo's unique_identifier is the business (the sender): the client is the recipient.
        external_id = webhooks.as_id(_object(content, "to_user").get("id"))
        if not external_id:
            return Outcome(WebhookEvent.Status.FAILED, "operator message to an unknown conversation and user")
        client = _upsert_user(
            inbound, external_id=external_id, username=str(content.get("to") or ""), display_name="", seen_at=None
        )
        services.set_variables(client=client, values={constants.VAR_CONVERSATION_ID: conversation_id})
        conversation = _upsert_conversation(inbound, client=client, conversation_id=conversation_id)

    message_type = str(content.get("type") or "")
    text = _text_body(content)
    kind = {constants.MSG_TYPE_TEXT: Message.Kind.TEXT, constants.MSG_TYPE_IMAGE: Message.Kind.IMAGE}.get(
        message_type, Message.Kind.UNSUPPORTED
    )
    message, created = _log_message(
        inbound,
        external_id=message_id,
        direction=Message.Direction.OUTBOUND,
        defaults={
            "client": client,
            "kind": kind,
            "source": Message.Source.OPERATOR,
            "status": Message.Status.SENT,
            "text": text,
            "sent_at": inbound.at(),
            "payload": {"type": message_type, "source": source, "webhook_event": inbound.event.pk},
        },
    )
    note = ""
    if created and window.reserve(conversation) is None:
        # The person sent it anyway: keep it in the log and say why the quota looks over-used.
        note = "sent from the TikTok app with the window already used up or closed"
        message.payload["window_exceeded"] = True
        message.save(update_fields=["payload"])
    inbound.emit(
        BotEvent.Type.OPERATOR_MESSAGE,
        client=client,
        text=text,
        data={"message_id": message_id, "conversation_id": conversation_id, "type": message_type, "source": source},
    )
    return Outcome(WebhookEvent.Status.PROCESSED, note)


def mark_read(inbound: Inbound) -> Outcome:
    """im_mark_read_msg: the user read the conversation; our outbound messages up to then become `read`."""
    conversation_id = inbound.envelope.id_of("conversation_id")
    _, client = _conversation_client(inbound, conversation_id)
    if client is None:
        return ignored(f"read receipt for an unknown conversation {conversation_id}")
    millis = _object(inbound.content, "read").get("last_read_timestamp")
    read_at = (
        dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)
        if isinstance(millis, int) and not isinstance(millis, bool)
        else inbound.at()
    )
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


def _own_comment(inbound: Inbound, *, author: str, comment_id: str) -> bool:
    account = inbound.account
    if author and author in {account.business_id, account.username}:
        return True
    return Message.objects.filter(
        channel=inbound.channel, kind=Message.Kind.COMMENT_REPLY, external_id=comment_id
    ).exists()


def _is_new_comment(inbound: Inbound) -> bool:
    return str(inbound.content.get("comment_action") or "") == constants.COMMENT_ACTION_INSERT


def _list_comments(account: TikTokAccount, *, video_id: str, comment_ids: list[str]) -> list[dict]:
    return tokens.call(
        account,
        lambda client: client.list_comments(
            business_id=account.business_id, video_id=video_id, comment_ids=comment_ids
        ),
    )


def fetch_comments(inbounds: list[Inbound]) -> list[dict | Exception]:
    """New comments' text and author (`comment.update` carries neither), for many rows: the comments of one video
    are asked for together, COMMENT_LIST_MAX_IDS per call, so a viral video's comments do not spend one call of
    the app's 10 per second each. Our own comments are not asked for. Per row: what lands in `Inbound.fetched`, or
    the error of its call (the row then fails and is retried)."""
    results: list[dict | Exception] = [{} for _ in inbounds]
    by_video: dict[tuple[int, str], list[int]] = {}
    for index, inbound in enumerate(inbounds):
        author = webhooks.as_id(inbound.content.get("unique_identifier"))
        comment_id = inbound.envelope.id_of("comment_id")
        if _is_new_comment(inbound) and not _own_comment(inbound, author=author, comment_id=comment_id):
            by_video.setdefault((inbound.account.pk, inbound.envelope.id_of("video_id")), []).append(index)
    for (_account, video_id), indexes in by_video.items():
        for start in range(0, len(indexes), constants.COMMENT_LIST_MAX_IDS):
            chunk = indexes[start : start + constants.COMMENT_LIST_MAX_IDS]
            account = inbounds[chunk[0]].account
            ids = [inbounds[index].envelope.id_of("comment_id") for index in chunk]
            try:
                comments = _list_comments(account, video_id=video_id, comment_ids=list(dict.fromkeys(ids)))
            except tokens.AccountUnavailableError as exc:
                # Webhooks still arrive for an account that needs reauthorisation, but the text cannot be read.
                for index in chunk:
                    results[index] = {"unavailable": exc.reason}
                continue
            except Exception as exc:  # noqa: BLE001 - TikTok's or the network's: each row fails and is retried
                for index in chunk:
                    results[index] = exc
                continue
            found = {webhooks.as_id(comment.get("comment_id")): comment for comment in comments}
            for index, comment_id in zip(chunk, ids, strict=True):
                results[index] = {"comment": found.get(comment_id)}
    return results


def fetch_comment(inbound: Inbound) -> dict:
    """`fetch_comments` for one row; its call's error is raised."""
    (result,) = fetch_comments([inbound])
    if isinstance(result, Exception):
        raise result
    return result


def comment_update(inbound: Inbound) -> Outcome:
    """comment.update: a user's new comment becomes `tiktok_client_new_comment <video_id>: <text>` (R11)."""
    content = inbound.content
    if not _is_new_comment(inbound):
        return ignored(f"comment action {content.get('comment_action')!r} is not told to the bot")
    comment_id = inbound.envelope.id_of("comment_id")
    video_id = inbound.envelope.id_of("video_id")
    author = webhooks.as_id(content.get("unique_identifier"))
    if _own_comment(inbound, author=author, comment_id=comment_id):
        return ignored("the account's own comment or reply")
    if "unavailable" in inbound.fetched:
        reason = inbound.fetched["unavailable"]
        return Outcome(WebhookEvent.Status.FAILED, f"comment text not fetched: account unavailable ({reason})")
    comment = inbound.fetched.get("comment")
    if comment is None:
        return Outcome(WebhookEvent.Status.FAILED, "comment not found on TikTok (deleted before we read it?)")
    author = webhooks.as_id(comment.get("unique_identifier")) or author
    if _own_comment(inbound, author=author, comment_id=comment_id):
        return ignored("the account's own comment or reply")
    if not author:
        return Outcome(WebhookEvent.Status.FAILED, "comment without its author's unique_identifier")
    text = str(comment.get("text") or "")
    at = inbound.at()
    client = _upsert_user(
        inbound,
        external_id=author,
        username=str(comment.get("username") or ""),
        display_name=str(comment.get("display_name") or ""),
        seen_at=at,
    )
    variables, _changed = services.merge_variables(
        client=client, values={constants.VAR_COMMENT_ID: comment_id, constants.VAR_COMMENT_VIDEO_ID: video_id}
    )
    parent_id = webhooks.as_id(content.get("parent_comment_id"))
    data = {"type": "comment", "comment_id": comment_id, "video_id": video_id, "parent_comment_id": parent_id}
    _log_inbound_message(
        inbound,
        external_id=comment_id,
        fields={
            "client": client,
            "kind": Message.Kind.COMMENT,
            "source": Message.Source.CLIENT,
            "status": Message.Status.RECEIVED,
            "text": text,
            "payload": {**data, "webhook_event": inbound.event.pk},
        },
    )
    inbound.emit(
        BotEvent.Type.CLIENT_MESSAGE,
        client=client,
        text=f"{constants.CALLBACK_NEW_COMMENT} {video_id}: {text}",
        data=data,
        variables=variables,
    )
    return PROCESSED


def _always(inbound: Inbound) -> bool:
    return True


def _is_image(inbound: Inbound) -> bool:
    return inbound.content.get("type") == constants.MSG_TYPE_IMAGE


@dataclass(frozen=True)
class Route:
    apply: Callable[[Inbound], Outcome]
    # The same for consecutive rows at once, in arrival order (a batch of a worker): set-wise writes.
    apply_many: Callable[[list[Inbound]], list[Outcome]] | None = None
    # Remote reads the handler needs, made before the transaction; returns what lands in `Inbound.fetched`.
    fetch: Callable[[Inbound], dict] | None = None
    # Whether this row needs `fetch` at all (a text message needs no download URL): rows that need none can be
    # processed in a batch, inside one transaction (journal.process_event).
    fetches: Callable[[Inbound], bool] = _always
    # `fetch` for many rows at once, sharing TikTok calls; per row its result or its error.
    fetch_many: Callable[[list[Inbound]], list[dict | Exception]] | None = None


HANDLERS: dict[str, Route] = {
    constants.EVENT_RECEIVE_MSG: Route(
        receive_message, apply_many=receive_messages, fetch=fetch_image, fetches=_is_image
    ),
    constants.EVENT_RECEIVE_MSG_EU: Route(receive_message_restricted),
    constants.EVENT_SEND_MSG: Route(send_echo),
    constants.EVENT_MARK_READ: Route(mark_read),
    constants.EVENT_COMMENT_UPDATE: Route(comment_update, fetch=fetch_comment, fetch_many=fetch_comments),
}
# Known events the bot is not told about, with the note the journal keeps.
IGNORED_EVENTS = {
    constants.EVENT_REFERRAL: "referral (ad or tiktok.me link) events are journaled only",
}


def _account(business_id: str, accounts: dict[str, TikTokAccount | None] | None) -> TikTokAccount | None:
    """The connected account of a business id; `accounts` caches it for the rows of one batch."""
    if accounts is not None and business_id in accounts:
        return accounts[business_id]
    account = TikTokAccount.objects.select_related("channel__project").filter(business_id=business_id).first()
    if accounts is not None:
        accounts[business_id] = account
    return account


def _routed(event: WebhookEvent, accounts: dict[str, TikTokAccount | None] | None) -> Inbound | Outcome:
    """A journal row with its envelope and account, or its outcome when there is nothing to apply."""
    try:
        envelope = webhooks.parse_envelope(event.raw_body.encode())
    except webhooks.MalformedPayloadError as exc:
        return Outcome(WebhookEvent.Status.FAILED, f"malformed payload: {exc}")
    if envelope.event not in HANDLERS:
        return ignored(IGNORED_EVENTS.get(envelope.event, f"unknown event {envelope.event!r}"))
    account = _account(envelope.business_id, accounts)
    if account is None:
        return ignored(f"no connected account with business_id {envelope.business_id!r}")
    return Inbound(event=event, envelope=envelope, account=account)


def _needs_fetch(inbound: Inbound) -> bool:
    # A disconnected account's rows are journaled as ignored by apply: nothing to read.
    route = HANDLERS[inbound.envelope.event]
    return (
        inbound.account.status != TikTokAccount.Status.DISCONNECTED
        and route.fetch is not None
        and route.fetches(inbound)
    )


def prepare(
    event: WebhookEvent, *, remote: bool = True, accounts: dict[str, TikTokAccount | None] | None = None
) -> Inbound | Outcome | None:
    """Route a journal row and make its remote reads. Outside any transaction: it may call TikTok.

    Returns what `apply` needs, or the outcome right away when there is nothing to apply. With `remote=False`
    nothing remote is called: a row that would need a remote read gives None (it is left to its own task)."""
    routed = _routed(event, accounts)
    if isinstance(routed, Outcome) or not _needs_fetch(routed):
        return routed
    if not remote:
        return None
    routed.fetched = HANDLERS[routed.envelope.event].fetch(routed)
    return routed


def prepare_many(events: list[WebhookEvent]) -> list[Inbound | Outcome | Exception]:
    """`prepare` for many rows, outside any transaction; rows whose route reads TikTok set-wise
    (`Route.fetch_many`: comments) share their calls. Per row: what `apply` needs, or the error to journal."""
    accounts: dict[str, TikTokAccount | None] = {}
    prepared: list[Inbound | Outcome | Exception] = []
    to_fetch: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        try:
            routed = _routed(event, accounts)
        except Exception as exc:  # noqa: BLE001 - journaled for its row, like a failure of apply
            prepared.append(exc)
            continue
        prepared.append(routed)
        if isinstance(routed, Inbound) and _needs_fetch(routed):
            to_fetch.setdefault(routed.envelope.event, []).append(index)
    for name, indexes in to_fetch.items():
        route = HANDLERS[name]
        inbounds = [prepared[index] for index in indexes]
        if route.fetch_many is not None:
            results = route.fetch_many(inbounds)
        else:
            results = [_fetch_one(route, inbound) for inbound in inbounds]
        for index, result in zip(indexes, results, strict=True):
            if isinstance(result, Exception):
                prepared[index] = result
            else:
                prepared[index].fetched = result
    return prepared


def _fetch_one(route: Route, inbound: Inbound) -> dict | Exception:
    try:
        return route.fetch(inbound)
    except Exception as exc:  # noqa: BLE001 - journaled for its row
        return exc


def _bind(prepared: Inbound | Outcome, event: WebhookEvent) -> Inbound | Outcome:
    """The prepared row bound to `event`, the locked journal row, or the outcome when there is nothing to write."""
    if isinstance(prepared, Outcome):
        return prepared
    # A fresh count of emitted events per call: a retried apply gives its bot events the same keys again.
    inbound = replace(prepared, event=event, _emitted={})
    event.account = inbound.account
    if inbound.account.status == TikTokAccount.Status.DISCONNECTED:
        return ignored("the account is disconnected")
    return inbound


def apply(prepared: Inbound | Outcome, *, event: WebhookEvent) -> Outcome:
    """Write what a prepared row means, in the caller's transaction; `event` is the locked journal row.

    The account's `last_webhook_at` is the caller's to move (`touch_accounts`), once per transaction."""
    return apply_many([(prepared, event)])[0]


def apply_many(items: list[tuple[Inbound | Outcome, WebhookEvent]]) -> list[Outcome]:
    """`apply` for rows in order, in the caller's transaction. Consecutive rows of one event whose handler writes
    set-wise (`Route.apply_many`) are written together; the result is that of applying the rows one by one."""
    outcomes: list[Outcome] = []
    run: list[Inbound] = []

    def flush() -> None:
        if run:
            outcomes.extend(HANDLERS[run[0].envelope.event].apply_many(run))
            run.clear()

    for prepared, event in items:
        bound = _bind(prepared, event)
        if isinstance(bound, Outcome):
            flush()
            outcomes.append(bound)
            continue
        route = HANDLERS[bound.envelope.event]
        if run and run[0].envelope.event != bound.envelope.event:
            flush()
        if route.apply_many is None:
            outcomes.append(route.apply(bound))
        else:
            run.append(bound)
    flush()
    return outcomes


def touch_accounts(applied: list[tuple[Inbound | Outcome, WebhookEvent]]) -> None:
    """Move each active account's `last_webhook_at` forward to the newest row applied for it: one UPDATE per
    account, whatever the number of rows."""
    latest: dict[int, dt.datetime] = {}
    for prepared, event in applied:
        if isinstance(prepared, Inbound) and prepared.account.status != TikTokAccount.Status.DISCONNECTED:
            pk = prepared.account.pk
            latest[pk] = max(latest.get(pk, event.received_at), event.received_at)
    for pk, received_at in latest.items():
        TikTokAccount.objects.filter(pk=pk).filter(
            Q(last_webhook_at__isnull=True) | Q(last_webhook_at__lt=received_at)
        ).update(last_webhook_at=received_at)
