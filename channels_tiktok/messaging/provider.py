"""TikTok's provider for the channel-agnostic client API (see `clients.channel_registry`)."""

from channels_tiktok import constants
from channels_tiktok.messaging import (
    comment_dm,
    comment_moderation,
    comment_replies,
    error_messages,
    images,
    outbound,
    rules,
    videos,
    window,
)
from channels_tiktok.models import Conversation
from clients.api_errors import document_codes
from clients.channel_registry import ChannelProvider, OutgoingRequest, Queued, WindowInfo
from clients.models import Client, Message


class TikTokProvider(ChannelProvider):
    protected_variable_prefixes = (constants.CHANNEL_VARIABLE_PREFIX,)
    required_variables = {
        constants.VAR_CONVERSATION_ID: (
            f"{constants.VAR_CONVERSATION_ID} is required for sending: without it the business cannot write to the "
            "client until they write again. It is maintained by the channel and cannot be deleted."
        ),
    }

    def window(self, client: Client) -> WindowInfo:
        verdict = window.verdict(Conversation.objects.filter(client=client).first())
        return WindowInfo(open=verdict.open, expires_at=verdict.expires_at, messages_left=verdict.messages_left)

    def send_message(self, *, client: Client, request: OutgoingRequest) -> Message | Queued:
        from channels_tiktok.api.messages import send_from_api  # the API adapter needs DRF; keep it out of import time

        return send_from_api(client=client, request=request)


def document_error_codes() -> None:
    conflicts = {code: rules.CODES[code] for code in rules.CONVERSATION_CODES}
    document_codes(conflicts, status_code=409)
    document_codes(outbound.CONFLICT_CODES, status_code=409)
    document_codes(rules.SLOT_CODES, status_code=409)
    document_codes({k: v for k, v in rules.CODES.items() if k not in conflicts}, status_code=422)
    document_codes(images.CODES, status_code=422)
    document_codes(comment_replies.CODES, status_code=422)
    document_codes(videos.CODES, status_code=422)
    document_codes(rules.AUTO_MESSAGE_CODES, status_code=422)
    document_codes(comment_moderation.CODES, status_code=422)
    document_codes(comment_dm.CODES, status_code=409)
    from channels_tiktok.api.messages import QUEUE_CODES
    from channels_tiktok.api.queue import NOT_QUEUED

    document_codes(QUEUE_CODES, status_code=422)
    document_codes(NOT_QUEUED, status_code=409)
    document_codes(outbound.UPSTREAM_CODES, status_code=502)
    document_codes(outbound.UNAVAILABLE_CODES, status_code=503)
    document_codes(outbound.BUSY_CODES, status_code=429)
    document_codes(rules.WARNING_CODES, status_code=200)
    error_messages.register()
