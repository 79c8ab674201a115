"""business/comment/hide|like|delete: the business moderates comments on its own videos.

Hiding needs the comment's video (one of the business's: 40007 otherwise) and answers `comment.update`
`set_to_hidden` / `set_to_public`; deleting is for the business's own comments only (40001 for another user's)
and answers `comment.update` `delete`; likes are remembered (`sandbox.comment_likes`).
"""

from __future__ import annotations

from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox import events
from channels_tiktok.sandbox.api.common import _invalid, authenticate
from channels_tiktok.sandbox.api.videos import _own_video
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Account, Comment
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope


def _account(sandbox: SandboxCore, request: Request, body: dict) -> Account:
    _grant, account = authenticate(
        sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_COMMENT_MANAGE
    )
    return account


def _comment(sandbox: SandboxCore, account: Account, comment_id: Any) -> Comment:
    comment = sandbox.state.comments.get(str(comment_id or ""))
    if comment is None or comment.business_id != account.business_id:
        raise ApiError(constants.CODE_NOT_FOUND, "The comment does not exist on this business's videos.")
    return comment


def _emit(sandbox: SandboxCore, account: Account, comment: Comment, action: str) -> None:
    content = events.comment_content(
        comment, action, timestamp_ms=sandbox.state.clock.now_ms(), as_numbers=sandbox.config.ids_as_numbers
    )
    sandbox.emit_after_api_call(
        constants.EVENT_COMMENT_UPDATE, account.business_id, content, echo_mode=sandbox.config.echo_mode
    )


def hide(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body)
        video = _own_video(sandbox, account, body.get("video_id"))
        comment = _comment(sandbox, account, body.get("comment_id"))
        if comment.video_id != video.item_id:
            raise ApiError(constants.CODE_NOT_FOUND, "The comment does not exist on this video.")
        action = body.get("action")
        if action not in (constants.COMMENT_HIDE, constants.COMMENT_UNHIDE):
            raise _invalid("action must be HIDE or UNHIDE.")
        hidden = action == constants.COMMENT_HIDE
        comment.status = "HIDDEN" if hidden else "PUBLIC"
        _emit(sandbox, account, comment, constants.COMMENT_ACTION_HIDDEN if hidden else constants.COMMENT_ACTION_PUBLIC)
    return envelope({})


def like(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body)
        comment = _comment(sandbox, account, body.get("comment_id"))
        action = body.get("action")
        if action not in (constants.COMMENT_LIKE, constants.COMMENT_UNLIKE):
            raise _invalid("action must be LIKE or UNLIKE.")
        if action == constants.COMMENT_LIKE:
            sandbox.comment_likes.add(comment.comment_id)
        else:
            sandbox.comment_likes.discard(comment.comment_id)
    return envelope({})


def delete(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body)
        comment = _comment(sandbox, account, body.get("comment_id"))
        if comment.author_id != account.business_id:
            raise ApiError(
                constants.CODE_NO_PERMISSION, "Only the business's own comments can be deleted; hide others' instead."
            )
        comment.status = "DELETED"
        del sandbox.state.comments[comment.comment_id]
        _emit(sandbox, account, comment, constants.COMMENT_ACTION_DELETE)
    return envelope({})
