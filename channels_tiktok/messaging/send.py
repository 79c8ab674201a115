"""Sending the bot's messages to a client (R5-R10, R14, B4, B7) and the same checks as a dry run.

The send is synchronous so a bot's messages reach the client in the order it sent them:
rules -> image (fetched or uploaded, capability checked) -> one message of the window reserved atomically ->
logged as queued -> image uploaded -> sent through the rate limiter -> TikTok's message id recorded, `sent`.
A refusal after the reservation gives the slot back only when TikTok certainly did not act on the send.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.messaging import fallback, fallback_rules, rules, window
from channels_tiktok.messaging.images import (
    ImageError,
    ImageFetchesBusyError,
    ImageFile,
    fetch_image,
    fetch_slot,
    read_upload,
)
from channels_tiktok.messaging.outbound import (
    BlockedError,
    BusyError,
    OutboundError,
    RuleViolationsError,
    ServiceUnavailableError,
    UpstreamError,
    call,
    definitely_not_acted_on,
    ensure_available,
    failure_detail,
)
from channels_tiktok.messaging.sender_actions import before_message
from channels_tiktok.messaging.targets import account_of, capability_fresh, conversation_of, facts_of
from channels_tiktok.messaging.videos import ensure_own_post
from channels_tiktok.models import Conversation, TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients.models import Client, Message

logger = logging.getLogger(__name__)

CARD_TYPES = {
    rules.BUTTON_CALLBACK: constants.TEMPLATE_QA_BUTTON_CARD,
    rules.BUTTON_URL: constants.TEMPLATE_QA_LINK_CARD,
}


@dataclass(frozen=True)
class ImageSource:
    """Where the bot's image comes from: a URL or an uploaded file (either, not both)."""

    url: str = ""
    upload: UploadedFile | IO[bytes] | None = None


def button_id(message_id: int, index: int) -> str:
    """Our id of a button, sent to TikTok and returned with a tap: tells taps of different messages apart."""
    return f"b{message_id}-{index + 1}"


def outgoing(
    *, text: str, buttons: Sequence[rules.Button], image: ImageSource | None, share_post: str = ""
) -> rules.OutgoingMessage:
    has_image = image is not None and (image.url or image.upload is not None)
    return rules.OutgoingMessage(
        text=text, buttons=tuple(buttons), images=(rules.Image(),) if has_image else (), share_post=share_post
    )


def load_image(source: ImageSource, *, project_id: int) -> ImageFile:
    """The image's bytes, judged by R9. Raises RuleViolationsError with the image's own code, BusyError
    (image_fetch_busy) when the project already runs as many downloads as it may."""
    try:
        if source.upload is not None:
            return read_upload(source.upload)
        with fetch_slot(project_id):
            return fetch_image(source.url)
    except ImageFetchesBusyError as exc:
        raise BusyError("image_fetch_busy") from exc
    except ImageError as exc:
        raise RuleViolationsError([rules.Violation(code=exc.code, field="image", message=exc.message)]) from exc


def image_allowed(account: TikTokAccount, conversation: Conversation, *, now: dt.datetime) -> bool:
    """R8: whether TikTok lets this conversation receive images; asked at most once per TTL."""
    if conversation.image_send_allowed is not None and capability_fresh(conversation, now):
        return conversation.image_send_allowed
    try:
        allowed = call(
            account,
            lambda c: c.image_send_capability(
                business_id=account.business_id, conversation_id=conversation.conversation_id
            ),
            event="tiktok.capability",
        )
    except TikTokError as error:
        raise UpstreamError.from_error(error) from error
    Conversation.objects.filter(pk=conversation.pk).update(image_send_allowed=allowed, image_checked_at=now)
    conversation.image_send_allowed, conversation.image_checked_at = allowed, now
    return allowed


def _blocking(errors: list[rules.Violation]) -> None:
    conflicts = [e for e in errors if e.code in rules.CONVERSATION_CODES]
    if conflicts:
        raise BlockedError(conflicts[0].code, conflicts[0].message)
    if errors:
        raise RuleViolationsError(errors)


def _window_violation(conversation: Conversation) -> rules.Violation | None:
    """What our ledger says of the window right now: window_closed, quota_exhausted, or None (room left)."""
    conversation.refresh_from_db(fields=["last_inbound_at", "window_sent"])
    now = timezone.now()
    errors = rules.check_conversation(rules.OutgoingMessage(), facts_of(conversation, now=now), now=now)
    return next((e for e in errors if e.code in rules.CONVERSATION_CODES), None)


def _send_body(
    message: Message, *, text: str, buttons: Sequence[rules.Button], media_id: str, share_post: str = ""
) -> tuple[str, dict]:
    if share_post:
        return constants.MESSAGE_TYPE_SHARE_POST, {"share_post": {"item_id": share_post}}
    if media_id:
        return constants.MESSAGE_TYPE_IMAGE, {"image": {"media_id": media_id}}
    if buttons:
        card = {
            "type": CARD_TYPES[buttons[0].type],
            "title": text,
            "buttons": [
                {"type": constants.BUTTON_TYPE_REPLY, "title": b.text, "id": button_id(message.pk, i)}
                for i, b in enumerate(buttons)
            ],
        }
        return constants.MESSAGE_TYPE_TEMPLATE, {"template": card}
    return constants.MESSAGE_TYPE_TEXT, {"text": {"body": text}}


def _log_queued(
    *,
    client: Client,
    text: str,
    buttons: Sequence[rules.Button],
    image: ImageFile | None,
    source: ImageSource | None,
    share_post: str = "",
) -> Message:
    kind = Message.Kind.IMAGE if image else Message.Kind.BUTTONS if buttons else Message.Kind.TEXT
    kind = Message.Kind.SHARE_POST if share_post else kind
    message = Message.objects.create(
        channel_id=client.channel_id,
        client=client,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        source=Message.Source.BOT,
        status=Message.Status.QUEUED,
        text=text,
    )
    payload: dict = {"share_post": {"item_id": share_post}} if share_post else {}
    if buttons:
        payload["buttons"] = [
            {"id": button_id(message.pk, i), "type": b.type, "text": b.text, "url": b.url}
            for i, b in enumerate(buttons)
        ]
    if image:
        payload["image"] = {"format": image.format, "size": image.size, "url": source.url if source else ""}
    if payload:
        message.payload = payload
        message.save(update_fields=["payload"])
    return message


def mark_failed(message: Message, *, code: str, detail: str) -> None:
    """A logged outgoing message (a send or a comment reply) that TikTok did not take, with why."""
    message.status = Message.Status.FAILED
    message.error_code = code
    message.error_message = detail
    message.save(update_fields=["status", "error_code", "error_message"])


def _mark_sent(message: Message, *, external_id: str) -> None:
    message.status = Message.Status.SENT
    message.external_id = external_id or None
    message.sent_at = timezone.now()
    fields = ["status", "external_id", "sent_at", "payload"]
    try:
        with transaction.atomic():
            message.save(update_fields=fields)
    except IntegrityError:
        # TikTok's echo (im_send_msg) was logged before its answer to our call reached us: keep one row, ours.
        with transaction.atomic():
            Message.objects.filter(
                channel_id=message.channel_id, direction=Message.Direction.OUTBOUND, external_id=external_id
            ).exclude(pk=message.pk).delete()
            message.save(update_fields=fields)
        logger.info("tiktok.send.echo_merged", extra={"message_id": message.pk})


def send_message(
    *,
    client: Client,
    text: str = "",
    buttons: Sequence[rules.Button] = (),
    image: ImageSource | None = None,
    sender_actions: Sequence[str] = (),
    share_post: str = "",
    reserve_last: bool = False,
    last: bool = False,
    text_fallback: bool = False,
) -> Message:
    """Send one message from the bot to `client` and log it; `sender_actions` (typing, mark_read) are done
    first, best effort, and take no window slot; `share_post` (an item_id) shares one of the account's posts.
    `reserve_last` (without `last`): refused with `last_slot_reserved` rather than take the window's last
    message. The returned message's `last_message` says whether it took the last one. `text_fallback`: a callback
    card's text also lists its buttons (messaging/fallback.py). Raises an OutboundError subclass when refused:
    RuleViolationsError (422), BlockedError (409), SendRateLimitedError (429), UpstreamError (502). The log
    row, if one was made, says why."""
    account = account_of(client)
    ensure_available(account)
    message_rules = outgoing(text=text, buttons=buttons, image=image, share_post=share_post)
    content_errors = rules.check_content(message_rules)
    content_errors += rules.check_sender_actions(list(sender_actions), field_name="sender_actions")
    shown = fallback.shown_text(text, buttons, enabled=text_fallback)
    if shown != text:
        content_errors += fallback_rules.check_fallback(message_rules)
    if content_errors:
        raise RuleViolationsError(content_errors)
    conversation = conversation_of(client)
    now = timezone.now()
    _blocking(rules.check_conversation(message_rules, facts_of(conversation, now=now), now=now))
    assert conversation is not None  # check_conversation refuses a send without one (no_conversation)
    if share_post:
        ensure_own_post(account, share_post)

    image_file = None
    if image is not None and message_rules.images:
        image_file = load_image(image, project_id=client.channel.project_id)
        if not image_allowed(account, conversation, now=now):
            raise RuleViolationsError(
                [rules.Violation("image_not_supported", rules.CODES["image_not_supported"], "image")]
            )

    try:
        reservation = window.reserve_slot(conversation, take_last=not reserve_last or last)
    except DatabaseError as exc:
        raise ServiceUnavailableError("database_unavailable", NOT_SENT_DATABASE) from exc
    if reservation is None:
        # A client message between the check and the reservation would have opened a new window: rare enough
        # to answer with the usual refusal.
        violation = _window_violation(conversation)
        if violation is None:  # room left, but only the last message, kept for a send marked `last`
            left = window.verdict(conversation).messages_left
            code = rules.slot_refusal(left, reserve_last=reserve_last, last=last) or "quota_exhausted"
            violation = rules.Violation(code, rules.SLOT_CODES.get(code) or rules.CODES[code])
        raise BlockedError(violation.code, violation.message)
    window_start = reservation.window_start
    actions_done = []
    if sender_actions:
        actions_done = before_message(account=account, conversation=conversation, actions=list(sender_actions))
    try:
        message = _log_queued(
            client=client, text=shown, buttons=buttons, image=image_file, source=image, share_post=share_post
        )
        if shown != text:
            message.payload[fallback.PAYLOAD_FLAG] = True
        if actions_done:
            message.payload = {**(message.payload or {}), "sender_actions": actions_done}
        if shown != text or actions_done:
            message.save(update_fields=["payload"])
    except DatabaseError as exc:
        _release_quietly(conversation, window_start)
        raise ServiceUnavailableError("database_unavailable", NOT_SENT_DATABASE) from exc
    log = {"message_id": message.pk, "client_id": client.pk, "account_id": account.pk}
    try:
        media_id = ""
        if image_file:
            media_id = call(
                account,
                lambda c: c.upload_image(
                    business_id=account.business_id,
                    content=image_file.content,
                    filename=image_file.filename,
                    content_type=image_file.content_type,
                ),
                event="tiktok.upload",
            )
            message.payload["image"]["media_id"] = media_id
        message_type, body = _send_body(message, text=shown, buttons=buttons, media_id=media_id, share_post=share_post)
        external_id = call(
            account,
            lambda c: c.send_message(
                business_id=account.business_id,
                conversation_id=conversation.conversation_id,
                message_type=message_type,
                body=body,
            ),
            event="tiktok.send",
        )
    except OutboundError as exc:  # rate limited, limiter or account unavailable: nothing reached TikTok
        _release_quietly(conversation, window_start)
        _record_quietly(mark_failed, message, code=exc.code, detail=exc.message)
        logger.info("tiktok.send.refused", extra={**log, "code": exc.code})
        raise
    except TikTokError as error:
        raise _after_tiktok_error(message, conversation, error, window_start=window_start, log=log) from error
    except DatabaseError as exc:  # token refresh, image capability: before the send call, nothing was sent
        _release_quietly(conversation, window_start)
        raise ServiceUnavailableError("database_unavailable", NOT_SENT_DATABASE) from exc
    try:
        _mark_sent(message, external_id=external_id)
    except DatabaseError as exc:
        # TikTok accepted the message; only our record of it failed. The row stays `queued` until TikTok's echo
        # of the message (im_send_msg, source API) records it as sent (webhooks/direct_messages.py).
        logger.warning("tiktok.send.unrecorded", extra={**log, "external_id": external_id})
        raise UpstreamError("tiktok_unavailable", SENT_NOT_RECORDED, tiktok_code=None, log_id="") from exc
    message.last_message = reservation.last
    logger.info("tiktok.send.sent", extra={**log, "external_id": external_id})
    return message


NOT_SENT_DATABASE = "The database is unavailable; nothing was sent. Retry later."  # what the bot is told
SENT_NOT_RECORDED = (
    "TikTok accepted the message but it could not be recorded (the database failed); it is recorded as sent when "
    "TikTok's echo of it arrives. Do not send it again."
)


def _release_quietly(conversation: Conversation, window_start: dt.datetime) -> None:
    """Give the slot back; with the database down it cannot be, and the window keeps it (logged)."""
    try:
        window.release(conversation, window_start=window_start)
    except DatabaseError:
        logger.warning("tiktok.send.slot_not_released", extra={"conversation_id": conversation.pk})


def _record_quietly(record: Any, message: Message, **fields: Any) -> None:
    try:
        record(message, **fields)
    except DatabaseError:
        logger.warning("tiktok.send.not_recorded", extra={"message_id": message.pk})


def _after_tiktok_error(
    message: Message, conversation: Conversation, error: TikTokError, *, window_start: dt.datetime, log: dict
) -> OutboundError:
    """Log the failure and choose what the bot is told. The slot goes back only if TikTok did not act."""
    refusal: OutboundError = UpstreamError.from_error(error)
    release = definitely_not_acted_on(error) or error.path == constants.PATH_MEDIA_UPLOAD
    if error.code == constants.CODE_DM_RULES:
        # TikTok's "DM rules block this send". When our ledger (our reservation counted) agrees the window is
        # over, say which rule and keep the slot: TikTok's count is ahead of ours (e.g. an operator's message).
        try:
            violation = _window_violation(conversation)
        except DatabaseError:
            violation = None
        if violation is not None:
            refusal, release = BlockedError(violation.code, violation.message), False
    if release:
        _release_quietly(conversation, window_start)
    _record_quietly(mark_failed, message, code=refusal.code, detail=failure_detail(error))
    logger.info(
        "tiktok.send.failed",
        extra={**log, "code": refusal.code, "tiktok_code": error.code, "log_id": error.log_id, "released": release},
    )
    return refusal
