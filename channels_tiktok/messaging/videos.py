"""The account's own posts (`business/video/list/`): listed for the bot, and checked before a post is shared.

Pages are cached briefly (`TIKTOK_VIDEO_LIST_CACHE_SECONDS`, 60 s by default) in Django's cache, keyed by account
and cursor: a bot that lists, then shares, asks TikTok once. TikTok's cursor is passed through as it is.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from channels_tiktok import constants
from channels_tiktok.messaging.outbound import BlockedError, RuleViolationsError, UpstreamError, call, ensure_available
from channels_tiktok.messaging.rules import Violation
from channels_tiktok.models import TikTokAccount
from channels_tiktok.tiktok.client import TikTokError

logger = logging.getLogger(__name__)

CODES: dict[str, str] = {
    "share_post_not_own": "The post to share is not one of the account's own posts (TikTok shares only those).",
}
# How many pages of the account's posts are looked through for the post to share.
OWN_POST_MAX_PAGES = 10


def _cache_key(account: TikTokAccount, cursor: str) -> str:
    return f"tiktok:videos:{account.pk}:{account.business_id}:{cursor}"


def _require_scope(account: TikTokAccount) -> None:
    if not account.scopes.filter(scope=constants.SCOPE_VIDEO_LIST).exists():
        raise BlockedError(
            "missing_scope",
            f"The account did not grant {constants.SCOPE_VIDEO_LIST}: reconnect it and allow reading its videos.",
        )


def list_page(account: TikTokAccount, *, cursor: str = "") -> dict:
    """One page of the account's posts: `{"videos": [...], "cursor": ..., "has_more": bool}` as TikTok gave it.
    Raises BlockedError (account_unavailable, missing_scope), SendRateLimitedError, UpstreamError."""
    ensure_available(account)
    _require_scope(account)
    key = _cache_key(account, cursor)
    page = cache.get(key)
    if page is not None:
        return page
    try:
        data = call(
            account,
            lambda c: c.list_videos(
                business_id=account.business_id,
                fields=constants.VIDEO_LIST_FIELDS,
                cursor=cursor or None,
                max_count=constants.VIDEO_LIST_MAX_COUNT,
            ),
            event="tiktok.video_list",
        )
    except TikTokError as error:
        raise UpstreamError.from_error(error) from error
    page = {
        "videos": [v for v in data.get("videos") or [] if isinstance(v, dict)],
        "cursor": data.get("cursor"),
        "has_more": bool(data.get("has_more")),
    }
    cache.set(key, page, settings.TIKTOK_VIDEO_LIST_CACHE_SECONDS)
    return page


def ensure_own_post(account: TikTokAccount, item_id: str) -> None:
    """Refuse (422 `share_post_not_own`) a post that is not in the account's list, before TikTok is asked."""
    cursor = ""
    for _ in range(OWN_POST_MAX_PAGES):
        page = list_page(account, cursor=cursor)
        if any(str(v.get("item_id")) == item_id for v in page["videos"]):
            return
        if not page["has_more"] or page["cursor"] in (None, ""):
            break
        cursor = str(page["cursor"])
    logger.info("tiktok.share_post.not_own", extra={"account_id": account.pk})
    raise RuleViolationsError([Violation("share_post_not_own", CODES["share_post_not_own"], "share_post.item_id")])
