"""The account's videos, their comments and the account's replies to comments."""

from __future__ import annotations

from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox import events
from channels_tiktok.sandbox.api.common import _int, _invalid, _json_array, authenticate
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Account, Comment
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

VIDEO_FIELDS = (
    "item_id",
    "caption",
    "share_url",
    "embed_url",
    "create_time",
    "thumbnail_url",
    "video_views",
    "likes",
    "comments",
    "shares",
    "media_type",
    "is_ad",
)


def _video_item(sandbox: SandboxCore, video, fields: list[str]) -> dict:
    comments = sum(1 for c in sandbox.state.comments.values() if c.video_id == video.item_id)
    full = {
        "item_id": video.item_id,
        "caption": video.caption,
        "share_url": video.share_url,
        "embed_url": video.embed_url,
        "create_time": video.create_time,
        "thumbnail_url": f"https://p16-sign.tiktokcdn.com/sandbox/{video.item_id}.jpeg",
        "video_views": 1000,
        "likes": 100,
        "comments": comments,
        "shares": 10,
        "media_type": constants.VIDEO_MEDIA_TYPES[0],
        "is_ad": False,
    }
    return {"item_id": video.item_id} | {name: full[name] for name in fields}


def video_list(sandbox: SandboxCore, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        _grant, account = authenticate(
            sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_VIDEO_LIST
        )
        fields = _json_array(query.get("fields"), "fields") or ["item_id", "caption", "share_url", "embed_url"]
        unknown = [name for name in fields if name not in VIDEO_FIELDS]
        if unknown:
            raise _invalid(f"Unknown field(s): {', '.join(map(str, unknown))}")
        max_count = _int(query.get("max_count"), "max_count", default=20, low=1, high=constants.VIDEO_LIST_MAX_COUNT)
        offset = _int(query.get("cursor"), "cursor", default=0, low=0, high=10**9)
        videos = sorted(
            (v for v in sandbox.state.videos.values() if v.business_id == account.business_id),
            key=lambda v: v.create_time,
            reverse=True,
        )
        page = [_video_item(sandbox, v, fields) for v in videos[offset : offset + max_count]]
    return envelope({"videos": page, "cursor": offset + len(page), "has_more": offset + max_count < len(videos)})


def own_post(sandbox: SandboxCore, account: Account, item_id: Any):
    """A post the business may share: only its own (another account's post or an unknown id: 40007)."""
    video = sandbox.state.videos.get(str(item_id or ""))
    if video is None or video.business_id != account.business_id:
        raise ApiError(constants.CODE_NOT_FOUND, "share_post.item_id is not a post of this business.")
    return video


def _own_video(sandbox: SandboxCore, account: Account, video_id: Any):
    video = sandbox.state.videos.get(str(video_id or ""))
    if video is None or video.business_id != account.business_id:
        raise ApiError(constants.CODE_NOT_FOUND, "The video does not exist for this business_id.")
    return video


def comment_item(sandbox: SandboxCore, comment: Comment) -> dict:
    replies = sum(1 for c in sandbox.state.comments.values() if c.parent_comment_id == comment.comment_id)
    return {
        "comment_id": comment.comment_id,
        "video_id": comment.video_id,
        "user_id": comment.author_id,
        "unique_identifier": comment.author_id,
        "username": comment.username,
        "display_name": comment.display_name,
        "text": comment.text,
        "parent_comment_id": comment.parent_comment_id,
        "create_time": comment.create_time,
        "likes": 1 if comment.comment_id in sandbox.comment_likes else 0,
        "replies": replies,
        "owner": comment.author_id == comment.business_id,
        "status": comment.status,
    }


def comment_list(sandbox: SandboxCore, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        _grant, account = authenticate(
            sandbox, request, business_id=query.get("business_id"), scope=constants.SCOPE_COMMENT_LIST
        )
        video = _own_video(sandbox, account, query.get("video_id"))
        ids = _json_array(query.get("comment_ids"), "comment_ids")
        wanted = {str(i) for i in ids} if ids else None
        max_count = _int(query.get("max_count"), "max_count", default=20, low=1, high=30)
        offset = _int(query.get("cursor"), "cursor", default=0, low=0, high=10**9)
        comments = sorted(
            (
                c
                for c in sandbox.state.comments.values()
                if c.video_id == video.item_id and (wanted is None or c.comment_id in wanted)
            ),
            key=lambda c: (c.create_time, c.comment_id),
            reverse=True,
        )
        page = [comment_item(sandbox, c) for c in comments[offset : offset + max_count]]
    return envelope({"comments": page, "cursor": offset + len(page), "has_more": offset + max_count < len(comments)})


def comment_reply(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    state = sandbox.state
    with state.lock:
        _grant, account = authenticate(
            sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_COMMENT_MANAGE
        )
        video = _own_video(sandbox, account, body.get("video_id"))
        parent = state.comments.get(str(body.get("comment_id") or ""))
        if parent is None or parent.video_id != video.item_id:
            raise ApiError(constants.CODE_NOT_FOUND, "The comment does not exist on this video.")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _invalid("text is required.")
        if len(text) > constants.MAX_COMMENT_REPLY_LENGTH:
            raise _invalid(f"text is longer than {constants.MAX_COMMENT_REPLY_LENGTH} characters.")
        # TikTok nests one level: a reply to a reply hangs under the top comment.
        reply = state.add_comment(video, account, text, parent_comment_id=parent.parent_comment_id or parent.comment_id)
        content = events.comment_content(
            reply,
            constants.COMMENT_ACTION_INSERT,
            timestamp_ms=state.clock.now_ms(),
            as_numbers=sandbox.config.ids_as_numbers,
        )
        echo_mode = sandbox.config.echo_mode
        data = comment_item(sandbox, reply)
    response = envelope(data)
    sandbox.emit_after_api_call(constants.EVENT_COMMENT_UPDATE, account.business_id, content, echo_mode=echo_mode)
    return response
