"""The sandbox's HTML pages (the consent page and the `/sandbox/` control page), rendered from the app's
templates with a stand-alone Django template engine, and the CSS/JavaScript they load from `/sandbox/static/`.
Nothing comes from a CDN: the sandbox serves every file itself.
"""

from __future__ import annotations

import mimetypes
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from django.template import Context, Engine

from channels_tiktok import constants
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.phone import conversation_view
from channels_tiktok.sandbox.state import Account, Conversation, SandboxState, User
from channels_tiktok.sandbox.wire import Request, Response

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static" / "tiktok_sandbox"
ENGINE = Engine(dirs=[str(HERE / "templates")], autoescape=True)
VIEW_COOKIE = "sandbox_view"  # the conversation and device the page showed last (a form post comes back to it)
DEVICES = ("mobile", "desktop")

# What TikTok's consent page says each permission allows.
SCOPE_DESCRIPTIONS = {
    constants.SCOPE_MESSAGE_SEND: "Send direct messages on your behalf",
    constants.SCOPE_MESSAGE_READ: "Read your direct messages",
    constants.SCOPE_MESSAGE_MANAGE: "Manage your conversations (read receipts, capabilities)",
    constants.SCOPE_USER_BASIC: "Read your profile info (avatar, display name, followers)",
    constants.SCOPE_USER_USERNAME: "Read your username",
    constants.SCOPE_USER_ACCOUNT_TYPE: "Know whether your account is a business account",
    constants.SCOPE_COMMENT_LIST: "Read comments on your videos",
    constants.SCOPE_COMMENT_MANAGE: "Reply to comments on your videos",
    constants.SCOPE_VIDEO_LIST: "Read your public videos",
}


def render(name: str, context: dict[str, Any]) -> str:
    return ENGINE.get_template(f"tiktok_sandbox/{name}").render(Context(context))


def static_file(name: str) -> Response:
    """A file of `static/tiktok_sandbox/` (no sub-directories, nothing outside it)."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        return Response.text("404 page not found", status=404)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    return Response(body=path.read_bytes(), content_type=content_type, headers=[("Cache-Control", "no-cache")])


def media_preview(sandbox: SandboxCore, media_id: str) -> Response:
    """An image of a conversation for the page (media/download's URL wants the account's token)."""
    with sandbox.state.lock:
        media = sandbox.state.media.get(media_id)
    if media is None:
        return Response.text("404 page not found", status=404)
    return Response(body=media.content, content_type=media.content_type)


# ---------------------------------------------------------------------------------- the consent page
def consent_page(sandbox: SandboxCore, query: dict[str, str], scopes: list[str]) -> str:
    with sandbox.state.lock:
        accounts = [_account_row(a) for a in sandbox.state.accounts.values()]
    return render(
        "consent.html",
        {
            "app_id": sandbox.config.app_id,
            "hidden": [
                (name, query.get(name, ""))
                for name in ("client_key", "response_type", "scope", "redirect_uri", "state")
            ],
            "accounts": accounts,
            "scopes": [(scope, SCOPE_DESCRIPTIONS.get(scope, scope)) for scope in scopes],
        },
    )


def _account_row(account: Account) -> dict[str, Any]:
    return vars(account) | {"initial": (account.display_name or account.username or "?")[:1].upper()}


# ---------------------------------------------------------------------------------- the control page
def _active(state: SandboxState) -> list[Conversation]:
    """Conversations with messages, the newest first (message ids break ties: they grow across conversations)."""
    active = [c for c in state.conversations.values() if c.messages]
    return sorted(active, key=lambda c: (c.messages[-1].timestamp_ms, int(c.messages[-1].message_id)), reverse=True)


def _selection(sandbox: SandboxCore, request: Request) -> tuple[Account, User, str]:
    """The conversation (account, user) and device to show: the query's, else the page's last, else the most
    recently active conversation, else the first seeded pair."""
    state = sandbox.state
    query = request.query
    cookie = SimpleCookie(request.headers.get("cookie", ""))
    remembered = unquote(cookie[VIEW_COOKIE].value).split("|") if VIEW_COOKIE in cookie else []
    remembered += [""] * (3 - len(remembered))
    account_id = query.get("account") or remembered[0]
    user_id = query.get("user") or remembered[1]
    device = query.get("view") or remembered[2]
    if not (state.account(account_id) and user_id in state.users):
        active = _active(state)
        if active:
            account_id, user_id = active[0].business_id, active[0].user_id
        else:
            account_id, user_id = next(iter(state.accounts)), next(iter(state.users))
    return state.accounts[account_id], state.users[user_id], device if device in DEVICES else "mobile"


def control_page(sandbox: SandboxCore, request: Request) -> Response:
    state = sandbox.state
    with state.lock:
        account, user, device = _selection(sandbox, request)
        conversation = state.conversation(account.business_id, user.unique_identifier, create=False)
        bubbles = conversation_view(state, conversation)
        snap = state.snapshot()
        conversations = [
            {
                "account": state.accounts[c.business_id],
                "user": state.users[c.user_id],
                "count": len(c.messages),
                "last": conversation_view(state, c)[-1],
                "selected": c is conversation,
            }
            for c in _active(state)
        ]
        videos = sorted(
            (v for v in state.videos.values() if v.business_id == account.business_id),
            key=lambda v: v.create_time,
            reverse=True,
        )
        html = render(
            "control.html",
            {
                "config": sandbox.config,
                "flash": request.query.get("flash", ""),
                "snap": snap,
                "account": account,
                "user": user,
                "device": device,
                "conversation": conversation,
                "bubbles": bubbles,
                "conversations": conversations,
                "videos": videos,
                "all_videos": snap["videos"],
                "deliveries": list(reversed(snap["deliveries"][-30:])),
                "restricted": user.restricted,
            },
        )
    response = Response.html(html)
    remembered = quote(f"{account.business_id}|{user.unique_identifier}|{device}")
    response.headers.append(("Set-Cookie", f"{VIEW_COOKIE}={remembered}; Path=/sandbox/; SameSite=Lax"))
    return response
