"""Echoes of our own sends (`im_send_msg`, source API) that find no row with their id: reconciling a send whose
answer from TikTok was never recorded."""

from __future__ import annotations

import datetime as dt
import logging

from channels_tiktok import constants
from channels_tiktok.models import Conversation
from channels_tiktok.webhooks.inbound import Inbound, text_body
from clients.models import Message

logger = logging.getLogger(__name__)

# How long before TikTok's timestamp of an echo our send's row may have been logged (the row is made, then the image
# uploaded and the message sent), and how far after it (clocks differ).
RECONCILE_BEFORE = dt.timedelta(minutes=10)
RECONCILE_AFTER = dt.timedelta(minutes=2)


def reconcile_queued_send(inbound: Inbound, *, conversation_id: str, message_id: str) -> bool:
    """An echo of our own send (source API) whose id no row knows: the send reached TikTok but its answer was
    never recorded (the database failed right after TikTok accepted it), so the row stayed `queued` without
    TikTok's id. TikTok echoes no id of ours: the row is the oldest queued bot message of the conversation's client
    with the same text (or, for an image, of kind image) logged around the echo's time. Returns whether one was."""
    conversation = (
        Conversation.objects.select_related("client")
        .filter(account=inbound.account, conversation_id=conversation_id)
        .first()
    )
    if conversation is None or conversation.client is None:
        return False
    client = conversation.client
    at = inbound.at()
    candidates = Message.objects.filter(
        client=client,
        direction=Message.Direction.OUTBOUND,
        source=Message.Source.BOT,
        status=Message.Status.QUEUED,
        external_id__isnull=True,
        created_at__gte=at - RECONCILE_BEFORE,
        created_at__lte=at + RECONCILE_AFTER,
    )
    text = text_body(inbound.content)
    if text:
        candidates = candidates.filter(text=text)
    elif str(inbound.content.get("type") or "") == constants.MSG_TYPE_IMAGE:
        candidates = candidates.filter(kind=Message.Kind.IMAGE)
    else:
        return False
    for pk in candidates.order_by("id").values_list("pk", flat=True)[:5]:
        reconciled = Message.objects.filter(pk=pk, status=Message.Status.QUEUED, external_id__isnull=True).update(
            status=Message.Status.SENT, external_id=message_id, sent_at=at
        )
        if reconciled:
            logger.info("tiktok.send.reconciled_by_echo", extra={"message_id": pk})
            return True
    return False
