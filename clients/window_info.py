"""The window a channel gives the business to write to a client, as the channel registry reports it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowInfo:
    """When the channel lets the business write to the client (B5)."""

    open: bool
    expires_at: dt.datetime | None
    messages_left: int
    last_message: bool = False  # in a send's answer: the send took the window's last message
