"""Sender actions: show "typing…" or mark the conversation read, in the client's open window.

They are not messages: no window slot is taken and nothing is logged in the message log; each is one call to
TikTok through the app's rate limiter (`outbound.call`).
"""

from __future__ import annotations

import logging

from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.messaging import rules
from channels_tiktok.messaging.outbound import (
    BlockedError,
    OutboundError,
    RuleViolationsError,
    UpstreamError,
    call,
    ensure_available,
)
from channels_tiktok.messaging.targets import account_of, conversation_of, facts_of
from channels_tiktok.models import Conversation, TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients.models import Client

logger = logging.getLogger(__name__)


def _blocked(conversation: Conversation | None) -> None:
    errors = rules.check_window_open(facts_of(conversation, now=timezone.now()), now=timezone.now())
    if errors:
        raise BlockedError(errors[0].code, errors[0].message)


def _perform(account: TikTokAccount, conversation: Conversation, action: str) -> None:
    try:
        call(
            account,
            lambda c: c.send_sender_action(
                business_id=account.business_id,
                conversation_id=conversation.conversation_id,
                action=rules.SENDER_ACTIONS[action],
            ),
            event="tiktok.sender_action",
        )
    except TikTokError as error:
        if error.code == constants.CODE_DM_RULES:
            conversation.refresh_from_db(fields=["last_inbound_at"])
            _blocked(conversation)
        raise UpstreamError.from_error(error) from error
    logger.info("tiktok.sender_action.sent", extra={"account_id": account.pk, "action": action})


def send_sender_action(*, client: Client, action: str) -> None:
    """Perform one sender action (`typing` or `mark_read`) for `client`. Raises RuleViolationsError (422),
    BlockedError (409: no_conversation, window_closed, account_unavailable), SendRateLimitedError (429),
    UpstreamError (502)."""
    errors = rules.check_sender_actions([action])
    if errors:
        raise RuleViolationsError(errors)
    account = account_of(client)
    ensure_available(account)
    conversation = conversation_of(client)
    _blocked(conversation)
    assert conversation is not None  # check_window_open refuses an action without one (no_conversation)
    _perform(account, conversation, action)


def before_message(*, account: TikTokAccount, conversation: Conversation, actions: list[str]) -> list[dict]:
    """The sender actions a send asked for, done before its message, best effort: a refused action does not
    stop the message. Returns what happened to each, for the message's payload."""
    done = []
    for action in actions:
        try:
            _perform(account, conversation, action)
        except OutboundError as exc:
            logger.info("tiktok.sender_action.skipped", extra={"account_id": account.pk, "code": exc.code})
            done.append({"action": action, "ok": False, "code": exc.code})
        else:
            done.append({"action": action, "ok": True})
    return done
