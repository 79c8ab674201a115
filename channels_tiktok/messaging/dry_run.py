"""The send's checks as a dry run, for the bot builder at design time (`POST /api/v1/messages/validate/`): the same
rules and checks as `send.send_message`, and nothing reserved, logged or sent."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from channels_tiktok.messaging import fallback, fallback_rules, rules
from channels_tiktok.messaging.outbound import BlockedError, RuleViolationsError, ensure_available
from channels_tiktok.messaging.send import ImageSource, load_image, outgoing
from channels_tiktok.messaging.targets import conversation_of, facts_of
from channels_tiktok.models import TikTokAccount
from clients.models import Client


def validate_message(
    *,
    account: TikTokAccount,
    client: Client | None = None,
    text: str = "",
    buttons: Sequence[rules.Button] = (),
    image: ImageSource | None = None,
    share_post: str = "",
    text_fallback: bool = False,
) -> rules.Verdict:
    """The send's checks without sending (B4): the rules, the image's bytes, and with a client its window and
    the image capability TikTok last reported. Nothing is reserved, logged or sent."""
    message_rules = outgoing(text=text, buttons=buttons, image=image, share_post=share_post)
    now = timezone.now()
    conversation = facts_of(conversation_of(client), now=now) if client is not None else None
    verdict = rules.check(message_rules, conversation=conversation, now=now)
    errors = list(verdict.errors)
    if fallback.shown_text(text, buttons, enabled=text_fallback) != text:
        errors.extend(fallback_rules.check_fallback(message_rules))
    try:
        ensure_available(account)
    except BlockedError as exc:
        errors.insert(0, rules.Violation(code=exc.code, message=exc.message))
    if image is not None and message_rules.images:
        try:
            load_image(image, project_id=account.channel.project_id)
        except RuleViolationsError as exc:
            errors.extend(exc.violations)
    return rules.Verdict(errors=errors, warnings=verdict.warnings)
