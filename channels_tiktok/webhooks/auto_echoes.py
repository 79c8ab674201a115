"""`im_send_msg` echoes of TikTok's own automatic messages (`auto_message_type`: WELCOME_MESSAGE,
SUGGESTED_QUESTION, AUTO_REPLY): they are the account's, not the bot's nor a person's. Logged with source
`auto`; they take no message of the window and tell the bot nothing (no `operator.message`)."""

from __future__ import annotations

from channels_tiktok.models import Conversation, WebhookEvent
from channels_tiktok.webhooks.inbound import PROCESSED, Inbound, Outcome, log_message, object_of, text_body
from clients.models import Message


def auto_message_echo(inbound: Inbound, auto_message_type: str) -> Outcome:
    content = inbound.content
    message_id = inbound.envelope.id_of("message_id")
    conversation_id = inbound.envelope.id_of("conversation_id")
    if not message_id:
        return Outcome(WebhookEvent.Status.FAILED, "automatic message without message_id")
    conversation = (
        Conversation.objects.select_related("client")
        .filter(account=inbound.account, conversation_id=conversation_id)
        .first()
    )
    if conversation is None:
        return Outcome(WebhookEvent.Status.PROCESSED, "automatic message to a conversation we do not know yet")
    text = text_body(content)
    log_message(
        inbound,
        Message(
            client=conversation.client,
            direction=Message.Direction.OUTBOUND,
            external_id=message_id,
            kind=Message.Kind.TEXT if text else Message.Kind.UNSUPPORTED,
            source=Message.Source.AUTO,
            status=Message.Status.SENT,
            text=text,
            sent_at=inbound.at(),
            payload={
                "type": str(content.get("type") or ""),
                "auto_message_type": auto_message_type,
                "source": str(object_of(content, "message_tag").get("source") or ""),
                "webhook_event": inbound.event.pk,
            },
        ),
    )
    return PROCESSED
