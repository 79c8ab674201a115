"""Python clients of the control surface, for tests and the demo.

    control = SandboxControl("http://127.0.0.1:8001")   # over HTTP (any process)
    control = sandbox.control                            # in-process, same methods and results
    sent = control.user_writes(account="sbx-acct-mx-001", user="sbx-user-lucia", text="Hola")
    sent["conversation_id"], sent["message_id"], sent["delivery"]["http_status"]

Every method takes keyword arguments only and returns the action's JSON result (see `control/` for each
action's meaning). A refused action raises `SandboxControlError` with the sandbox's message. Webhook deliveries
made by a call happen in the thread that runs the action: the sandbox's server thread over HTTP, the caller's
thread in-process (so an in-process call can deliver into the Django test client, see tests/sandbox.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from channels_tiktok.sandbox.control.common import ControlError
from channels_tiktok.sandbox.control.dispatch import run

if TYPE_CHECKING:
    from channels_tiktok.sandbox.core import SandboxCore


class SandboxControlError(Exception):
    def __init__(self, message: str, *, code: int | None = None):
        super().__init__(message)
        self.code = code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _fetch(url: str, *, data: bytes | None = None, timeout: float) -> tuple[int, dict, str]:
    """(status, headers, body) without following redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, data=data, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def consent(
    authorize_url: str,
    *,
    account: str = "sbx-acct-mx-001",
    grant: list[str] | None = None,
    decision: str = "allow",
    account_type: str = "business",
    new_username: str | None = None,
    country: str | None = None,
    timeout: float = 10.0,
) -> dict:
    """Play the person on the consent page: open `authorize_url` (the full URL the product redirected to, with
    its query), then submit the form like a browser would.

    `grant`: the scopes left ticked (default: every scope asked for); `account="new"` with `new_username`
    creates an account; `account_type` business/personal. Returns `{"status", "location", "query", "body"}`:
    `query` is the redirect's query (`code` and `state`, or `error` and `error_description`). When the page
    itself refuses (unknown client_key, no redirect_uri: HTTP 400) or redirects at once (invalid_scope), that
    answer is returned and nothing is submitted.
    """
    status, headers, body = _fetch(authorize_url, timeout=timeout)
    if status == 200:
        asked = {key: values[-1] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
        scopes = [s for s in asked.get("scope", "").split(",") if s]
        form = {name: asked.get(name, "") for name in ("client_key", "response_type", "scope", "redirect_uri", "state")}
        form |= {"account": account, "account_type": account_type, "decision": decision}
        if new_username:
            form["new_username"] = new_username
        if country:
            form["country"] = country
        fields = [*form.items(), *(("grant", s) for s in (scopes if grant is None else grant))]
        parts = urlsplit(authorize_url)
        status, headers, body = _fetch(
            f"{parts.scheme}://{parts.netloc}{parts.path}", data=urlencode(fields).encode(), timeout=timeout
        )
    location = headers.get("Location", "")
    query = {key: values[-1] for key, values in parse_qs(urlsplit(location).query).items()} if location else {}
    return {"status": status, "location": location, "query": query, "body": body if status != 302 else ""}


class SandboxControl:
    """The control surface over HTTP."""

    def __init__(self, url: str, *, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, action: str, /, **arguments: Any) -> dict:
        # `action` positional-only: comment_action has an argument named `action` too.
        body = json.dumps({k: v for k, v in arguments.items() if v is not None}).encode()
        request = urllib.request.Request(  # noqa: S310 - the sandbox's own http URL
            f"{self.url}/sandbox/control/{action}/",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            payload = json.loads(error.read() or b"{}")
            raise SandboxControlError(payload.get("error", str(error)), code=payload.get("code")) from error

    # ------------------------------------------------------------------------------ the consent page
    def consent(self, authorize_url: str, **choices) -> dict:
        """Submit the consent page for `authorize_url` (see the module function `consent`)."""
        return consent(authorize_url, **choices)

    # ------------------------------------------------------------------------------ the user's side
    def user_writes(
        self, *, text: str, account: str | None = None, user: str | None = None, deliver: str | None = None
    ):
        """`im_receive_msg` (or `im_receive_msg_eu` for a restricted-region user). → conversation_id, message_id,
        event, content, delivery."""
        return self._call("user_writes", text=text, account=account, user=user, deliver=deliver)

    def user_sends(
        self, *, type: str, body: dict | None = None, account=None, user=None, quote_message_id=None, deliver=None
    ):
        """Another message type (`sticker`, `emoji`, `video`, `template`, `other`, ...): content `type` and
        `<type>: body` (default: TikTok's block for it); `quote_message_id` adds `referenced_message_info`."""
        return self._call(
            "user_sends",
            type=type,
            body=body,
            account=account,
            user=user,
            quote_message_id=quote_message_id,
            deliver=deliver,
        )

    def user_opens_from_referral(
        self,
        *,
        account=None,
        user=None,
        source=None,
        ad_id=None,
        ad_name=None,
        ref=None,
        prefilled_message=None,
        deliver=None,
    ):
        """`im_referral_msg`: the user opened the conversation from an ad (`source="ad"`) or a short link."""
        return self._call(
            "user_opens_from_referral",
            account=account,
            user=user,
            source=source,
            ad_id=ad_id,
            ad_name=ad_name,
            ref=ref,
            prefilled_message=prefilled_message,
            deliver=deliver,
        )

    def user_comments_high_intent(
        self,
        *,
        account=None,
        user=None,
        video_id=None,
        text=None,
        parent_comment_id=None,
        is_follower=None,
        deliver=None,
    ):
        """`im_receive_high_intent_comment` for a new comment. → comment_id, video_id, content, delivery."""
        return self._call(
            "user_comments_high_intent",
            account=account,
            user=user,
            video_id=video_id,
            text=text,
            parent_comment_id=parent_comment_id,
            is_follower=is_follower,
            deliver=deliver,
        )

    def expire_media_urls(self):
        """Every media download URL given out so far stops working (TikTok's expire after 24 hours)."""
        return self._call("expire_media_urls")

    def restricted_user_writes(self, *, account=None, user=None, text=None, deliver=None):
        return self._call("restricted_user_writes", account=account, user=user, text=text, deliver=deliver)

    def user_sends_image(self, *, account=None, user=None, image_base64=None, deliver=None):
        """→ ... and media_id (download it with media/download and `x-user`)."""
        return self._call("user_sends_image", account=account, user=user, image_base64=image_base64, deliver=deliver)

    def user_shares_video(self, *, account=None, user=None, video_id=None, deliver=None):
        """`share_post{video_id, embed_url}`. → ... and video_id, embed_url."""
        return self._call("user_shares_video", account=account, user=user, video_id=video_id, deliver=deliver)

    def user_taps_button(
        self, *, account=None, user=None, button_id=None, button_title=None, message_id=None, deliver=None
    ):
        """A tap on a button of a card the business sent: text = button title + reply_source_payload."""
        return self._call(
            "user_taps_button",
            account=account,
            user=user,
            button_id=button_id,
            button_title=button_title,
            message_id=message_id,
            deliver=deliver,
        )

    def user_comments(self, *, text: str, user=None, video_id=None, account=None, parent_comment_id=None, deliver=None):
        """`comment.update` insert to the video's owner. → comment_id, video_id, content, delivery."""
        return self._call(
            "user_comments",
            text=text,
            user=user,
            video_id=video_id,
            account=account,
            parent_comment_id=parent_comment_id,
            deliver=deliver,
        )

    def comment_action(self, *, comment_id: str, action: str, deliver=None):
        return self._call("comment_action", comment_id=comment_id, action=action, deliver=deliver)

    def user_reads(self, *, account=None, user=None, deliver=None):
        """`im_mark_read_msg`."""
        return self._call("user_reads", account=account, user=user, deliver=deliver)

    def operator_writes(self, *, text: str, account=None, user=None, source=None, deliver=None):
        """A person answers from the TikTok app: `im_send_msg` with `message_tag.source` APP (or WEB)."""
        return self._call("operator_writes", text=text, account=account, user=user, source=source, deliver=deliver)

    # ------------------------------------------------------------------------------ the world
    def auto_message_sends(self, *, auto_message_type=None, account=None, user=None, text=None, deliver=None):
        """TikTok sends the account's automatic message (an `im_send_msg` echo with `auto_message_type`)."""
        return self._call(
            "auto_message_sends",
            auto_message_type=auto_message_type,
            account=account,
            user=user,
            text=text,
            deliver=deliver,
        )

    def review_auto_message(self, *, auto_message_id: str, status=None):
        return self._call("review_auto_message", auto_message_id=auto_message_id, status=status)

    def create_user(
        self,
        *,
        username: str,
        display_name=None,
        country=None,
        is_follower=None,
        image_send=None,
        unique_identifier=None,
    ):
        return self._call(
            "create_user",
            username=username,
            display_name=display_name,
            country=country,
            is_follower=is_follower,
            image_send=image_send,
            unique_identifier=unique_identifier,
        )

    def set_user(self, *, user: str, country=None, is_follower=None, image_send=None, adult=None):
        return self._call(
            "set_user", user=user, country=country, is_follower=is_follower, image_send=image_send, adult=adult
        )

    def set_capability(self, *, user: str, image_send: bool):
        return self._call("set_capability", user=user, image_send=image_send)

    def create_account(self, *, username: str, country=None, is_business=None, display_name=None):
        return self._call(
            "create_account", username=username, country=country, is_business=is_business, display_name=display_name
        )

    def set_account(self, *, account: str, country=None, is_business=None):
        return self._call("set_account", account=account, country=country, is_business=is_business)

    def add_video(self, *, account=None, caption=None):
        return self._call("add_video", account=account, caption=caption)

    def issue_token(self, *, account=None, scopes=None):
        """Authorise the app for an account without the consent page → TikTok's token data."""
        return self._call("issue_token", account=account, scopes=scopes)

    def expire_token(self, *, account=None, which=None):
        """`which`: access (default), refresh or both."""
        return self._call("expire_token", account=account, which=which)

    def advance_clock(self, *, seconds=None, hours=None):
        return self._call("advance_clock", seconds=seconds, hours=hours)

    def subscribe(self, *, callback_url: str, event_types=None):
        return self._call("subscribe", callback_url=callback_url, event_types=event_types)

    def configure(self, **settings):
        """rate_limit_qps, echo_mode (after/before/manual), retry_attempts, retry_backoff_seconds,
        access_token_ttl, refresh_token_ttl, approved_scopes, redirect_uris, signing_secret, ids_as_numbers, ..."""
        return self._call("configure", **settings)

    def inject_failure(self, *, path: str, mode: str, count=None, code=None, status=None, delay=None, after=None):
        """Fail the next `count` calls of an API path; modes http_error, code, delay, drop (see app.Fault)."""
        return self._call(
            "inject_failure", path=path, mode=mode, count=count, code=code, status=status, delay=delay, after=after
        )

    def clear_failures(self):
        return self._call("clear_failures")

    def reset(self):
        return self._call("reset")

    def flush_deliveries(self):
        return self._call("flush_deliveries")

    def redeliver(self, *, delivery_id: int, times=None):
        return self._call("redeliver", delivery_id=delivery_id, times=times)

    def wait_for_deliveries(self, *, timeout=None):
        return self._call("wait_for_deliveries", timeout=timeout)

    # ------------------------------------------------------------------------------ reading back
    def deliveries(self, *, event=None, business_id=None) -> list[dict]:
        """Every webhook event with its envelope, parsed content, status and attempts."""
        return self._call("deliveries", event=event, business_id=business_id)["deliveries"]

    def messages(self, *, account=None, user=None) -> dict:
        return self._call("messages", account=account, user=user)

    def sent_messages(self, *, account=None, user=None) -> list[dict]:
        """What the account sent (API and app): type, body, source, message_id, timestamp_ms, user_id."""
        return self._call("sent_messages", account=account, user=user)["messages"]

    def comments(self, *, video_id=None) -> list[dict]:
        return self._call("comments", video_id=video_id)["comments"]

    def api_calls(self, *, path=None) -> list[dict]:
        """The Business API requests received, oldest first: `{path, method, query, body}`."""
        return self._call("api_calls", path=path)["calls"]

    def state(self) -> dict:
        return self._call("state")


class LocalControl(SandboxControl):
    """The same methods, run in this process and thread (no HTTP), with JSON-identical results."""

    def __init__(self, sandbox: SandboxCore):
        self.sandbox = sandbox
        self.url = ""

    def _call(self, action: str, /, **arguments: Any) -> dict:
        try:
            result = run(self.sandbox, action, {k: v for k, v in arguments.items() if v is not None})
        except ControlError as error:
            raise SandboxControlError(str(error), code=error.code) from error
        return json.loads(json.dumps(result, default=str))
