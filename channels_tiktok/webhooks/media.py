"""Inbound images and videos kept in the project's own storage, and the stable link the bot gets for them.

- The bot event carries our link at once (`data.<image|video>.link`): signed with Django's signing (it names the
  channel and TikTok's message id), valid TIKTOK_MEDIA_LINK_MAX_AGE_SECONDS, served by `media_file` (views).
- After the message is written, a task (`tasks.store_inbound_media`, queued after commit) asks TikTok for a fresh
  download URL (`media/download`, valid 24 h), fetches it with `x-user: <access token>` within a total deadline
  and a size cap (TIKTOK_MEDIA_MAX_BYTES), and saves it with `default_storage`. A failure is retried
  (TIKTOK_MEDIA_RETRIES times, with backoff); then the message's payload says `media_status: failed` and the bot
  gets `message.status` with `media_failed`.
- The link never waits on TikTok's URL: until the copy exists the view fetches it on demand (a fresh URL each
  time), so it works after TikTok's URL has expired.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from typing import Any

import requests
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.models import Conversation, TikTokAccount
from clients import events
from clients.models import BotEvent, Message

logger = logging.getLogger(__name__)

SALT = "channels_tiktok.media"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "video/mp4": "mp4"}


class MediaError(Exception):
    """The media could not be copied (TikTok refused, the download failed, too large)."""


def link(*, channel_id: int, message_id: str) -> str:
    """Our stable, signed link to an inbound message's media."""
    token = signing.dumps({"c": channel_id, "m": message_id}, salt=SALT, compress=True)
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("tiktok-media", args=[token])


def unsign(token: str) -> tuple[int, str] | None:
    """(channel id, message id) of a link's token, or None when forged or expired."""
    try:
        value = signing.loads(token, salt=SALT, max_age=settings.TIKTOK_MEDIA_LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    return int(value["c"]), str(value["m"])


def has_media(kind: str, payload: dict) -> bool:
    """Whether a message of `kind` with this payload has media to copy (and our link to it)."""
    block = payload.get(kind) if kind in constants.MEDIA_MESSAGE_TYPES else None
    return isinstance(block, dict) and bool(block.get("link"))


def queue_copies(messages: list[tuple[int, str]]) -> None:
    """Copy each (channel id, TikTok message id)'s media in the background, once the caller's transaction
    commits (in-process tasks then run right after it)."""
    from channels_tiktok import tasks

    if not settings.TIKTOK_KEEP_MEDIA:
        return  # the link still serves the file, fetched from TikTok when opened
    for channel_id, message_id in messages:
        transaction.on_commit(functools.partial(tasks.store_inbound_media.delay, channel_id, message_id))


def _block(message: Message) -> tuple[str, dict]:
    kind = message.kind if message.kind in constants.MEDIA_MESSAGE_TYPES else ""
    block = message.payload.get(kind) if kind else None
    return kind, block if isinstance(block, dict) else {}


def _fetch(account: TikTokAccount, message: Message, kind: str, media_id: str) -> tuple[bytes, str]:
    """A fresh download URL from TikTok, then the file: within the deadline, at most the cap."""
    conversation = Conversation.objects.filter(client_id=message.client_id).first() if message.client_id else None
    url = tokens.call(
        account,
        lambda c: c.media_download_url(
            business_id=account.business_id,
            conversation_id=conversation.conversation_id if conversation else "",
            message_id=message.external_id or "",  # always set: the callers find the message by it
            media_id=media_id,
            media_type=constants.MEDIA_MESSAGE_TYPES[kind],
        ),
    )
    deadline = time.monotonic() + settings.TIKTOK_MEDIA_FETCH_DEADLINE_SECONDS
    cap = settings.TIKTOK_MEDIA_MAX_BYTES
    try:
        with requests.get(
            url,
            headers={constants.MEDIA_DOWNLOAD_USER_HEADER: account.access_token},
            stream=True,
            timeout=settings.TIKTOK_MEDIA_FETCH_DEADLINE_SECONDS,
        ) as response:
            if response.status_code != 200:
                raise MediaError(f"download answered HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > cap:
                    raise MediaError(f"larger than {cap} bytes")
                if time.monotonic() > deadline:
                    raise MediaError("download deadline passed")
                chunks.append(chunk)
            content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
    except requests.RequestException as exc:
        raise MediaError(f"download failed: {type(exc).__name__}") from exc
    return b"".join(chunks), content_type


def store(message: Message) -> dict[str, Any]:
    """Copy the message's media into storage (once); returns its stored block. Raises MediaError, TikTokError,
    tokens.AccountUnavailableError."""
    kind, block = _block(message)
    if block.get("stored"):
        return block
    media_id = str(block.get("media_id") or "")
    if not media_id:
        raise MediaError("the message names no media id")
    account = TikTokAccount.objects.get(channel_id=message.channel_id)
    content, content_type = _fetch(account, message, kind, media_id)
    digest = hashlib.sha256(content).hexdigest()[:32]
    name = default_storage.save(
        f"tiktok/{message.channel_id}/{digest}.{EXTENSIONS.get(content_type, 'bin')}", ContentFile(content)
    )
    stored = {**block, "stored": name, "content_type": content_type, "size": len(content)}
    stored.pop("error", None)
    message.payload = {**message.payload, kind: stored, "media_status": "stored"}
    Message.objects.filter(pk=message.pk).update(payload=message.payload)
    return stored


def report_failure(message: Message, reason: str) -> None:
    """The copy failed for good: the payload says so and the bot gets `message.status` `media_failed`."""
    message.payload = {**message.payload, "media_status": "failed", "media_error": reason[:500]}
    Message.objects.filter(pk=message.pk).update(payload=message.payload)
    account = TikTokAccount.objects.select_related("channel__project").get(channel_id=message.channel_id)
    built = events.build(
        project=account.channel.project,
        event_type=BotEvent.Type.MESSAGE_STATUS,
        dedupe_key=f"tiktok:message:{message.pk}:media_failed",
        account={"id": account.pk, "business_id": account.business_id, "username": account.username},
        channel=account.channel,
        client=message.client,
        data={
            "message": message.pk,
            "message_id": message.external_id,
            "status": "media_failed",
            "reason": reason[:500],
        },
    )
    events.save([built])
    logger.warning("tiktok.media.failed", extra={"message_id": message.pk, "reason": reason[:200]})
