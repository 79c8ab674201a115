"""How a channel kind plugs its specific parts into the channel-agnostic API and admin.

`clients` never imports a channel. Each channel app registers one provider for its `Channel.Kind` in its
`AppConfig.ready()`; the client endpoints ask the provider of the client's channel for the window state, which
variables are the channel's own, and to send a message. A kind with no provider gets `ChannelProvider`'s
defaults: no window, no protected variables, sending refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .window_info import WindowInfo

if TYPE_CHECKING:
    from .models import Channel, Client, Message


@dataclass(frozen=True)
class OutgoingRequest:
    """The send body of the API, parsed: `{"text", "buttons": [{"type", "text", "url"}], "image": {"url"}}` or
    an uploaded image file; `sender_actions` done before it; `share_post_id` a post to share instead."""

    text: str = ""
    buttons: list[dict[str, Any]] = field(default_factory=list)
    image_url: str = ""
    image_file: Any = None
    sender_actions: list[str] = field(default_factory=list)
    share_post_id: str = ""
    reserve_last: bool = False  # keep the window's last message for a send marked `last`
    last: bool = False  # this send may take the window's last message
    text_fallback: bool | None = None  # buttons also as numbered text; None: the project's setting
    when_closed: str = "refuse"  # "queue": a closed or used-up window keeps the message for the next one


@dataclass(frozen=True)
class Queued:
    """A send's answer when the message was kept for the client's next window (202): its body."""

    body: dict[str, Any]


class ChannelProvider:
    """The defaults; a channel overrides what it supports."""

    # Variables under these prefixes are maintained by the channel and read-only through the API.
    protected_variable_prefixes: tuple[str, ...] = ()
    # Protected variables the channel cannot work without, each with why (shown when a delete is refused).
    required_variables: dict[str, str] = {}

    def window(self, client: Client) -> WindowInfo | None:
        return None

    def send_message(self, *, client: Client, request: OutgoingRequest) -> Message | Queued:
        """Send and log one message (or keep it for the next window: `Queued`); raise
        `clients.api_errors.ApiError`/`ViolationsError` when refused."""
        from .api_errors import ApiError

        raise ApiError(code="channel_cannot_send", message="This channel cannot send messages.", status_code=409)

    def is_protected(self, key: str) -> bool:
        return any(key.startswith(prefix) for prefix in self.protected_variable_prefixes)


_DEFAULT = ChannelProvider()
_providers: dict[str, ChannelProvider] = {}


def register(kind: str, provider: ChannelProvider) -> None:
    _providers[kind] = provider


def provider_for(channel: Channel) -> ChannelProvider:
    return _providers.get(channel.kind, _DEFAULT)
