"""The bot moderates comments on the account's videos: hide/unhide, like/unlike, delete its own.

TikTok deletes only the business's own comments (its replies); someone else's comment is refused here before
any call (`comment_not_own`): the account's own comments are known from our log of its replies, or asked of
TikTok (`comment/list`) when the video is given. Every call goes through `outbound.call` (the rate limiter).
"""

from __future__ import annotations

import logging

from channels_tiktok import constants
from channels_tiktok.messaging import rules
from channels_tiktok.messaging.outbound import BlockedError, RuleViolationsError, UpstreamError, call, ensure_available
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError
from clients.models import Message

logger = logging.getLogger(__name__)

CODES = {**rules.COMMENT_ACTION_CODES, "comment_not_own": rules.COMMENT_NOT_OWN}


def _is_own(account: TikTokAccount, *, comment_id: str, video_id: str) -> bool:
    if Message.objects.filter(channel_id=account.pk, kind=Message.Kind.COMMENT_REPLY, external_id=comment_id).exists():
        return True
    if not video_id:
        return False
    try:
        comments = call(
            account,
            lambda c: c.list_comments(business_id=account.business_id, video_id=video_id, comment_ids=[comment_id]),
            event="tiktok.comment_list",
        )
    except TikTokError as error:
        raise UpstreamError.from_error(error) from error
    for comment in comments:
        if str(comment.get("comment_id") or "") == comment_id:
            author = str(comment.get("unique_identifier") or comment.get("user_id") or "")
            return bool(comment.get("owner")) or author == account.business_id
    return False


def moderate(*, account: TikTokAccount, comment_id: str, action: str, video_id: str = "") -> None:
    """Do `action` on the comment. Raises RuleViolationsError (422: comment_action_unknown,
    comment_video_required, comment_not_own), BlockedError (409), SendRateLimitedError (429), UpstreamError (502)."""
    errors = rules.check_comment_action(action, video_id=video_id)
    if errors:
        raise RuleViolationsError(errors)
    ensure_available(account)
    if not account.scopes.filter(scope=constants.SCOPE_COMMENT_MANAGE).exists():
        raise BlockedError(
            "missing_scope",
            f"The account did not grant {constants.SCOPE_COMMENT_MANAGE}: reconnect it and allow managing comments.",
        )
    if action == "delete" and not _is_own(account, comment_id=comment_id, video_id=video_id):
        raise RuleViolationsError([rules.Violation("comment_not_own", rules.COMMENT_NOT_OWN, "comment_id")])
    business_id = account.business_id
    operations = {
        "hide": lambda c: c.hide_comment(
            business_id=business_id, video_id=video_id, comment_id=comment_id, hidden=True
        ),
        "unhide": lambda c: c.hide_comment(
            business_id=business_id, video_id=video_id, comment_id=comment_id, hidden=False
        ),
        "like": lambda c: c.like_comment(business_id=business_id, comment_id=comment_id, liked=True),
        "unlike": lambda c: c.like_comment(business_id=business_id, comment_id=comment_id, liked=False),
        "delete": lambda c: c.delete_comment(business_id=business_id, comment_id=comment_id),
    }
    try:
        call(account, operations[action], event="tiktok.comment_moderation")
    except TikTokError as error:
        raise UpstreamError.from_error(error) from error
    logger.info("tiktok.comment_moderation.done", extra={"account_id": account.pk, "action": action})
