"""What every control action shares: looking up accounts and users by id or username, `ControlError`, and
the sample images a user "sends".
"""

from __future__ import annotations

import base64
from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Account, Delivery, User, Video

TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# The first bytes of an MP4 file (an `ftyp` box): enough for a "video" the user sends.
TINY_MP4 = bytes.fromhex("0000001c667479706d703432000000006d7034326973736f6d") + b"\x00" * 32

SAMPLES = {
    "sample.png": (TINY_PNG, "image/png"),
    "sample.gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    "too-big.png": (TINY_PNG + b"\x00" * (constants.MAX_IMAGE_BYTES + 1 - len(TINY_PNG)), "image/png"),
}


class ControlError(Exception):
    """A control call that cannot be done (unknown account, no card to tap, closed window, ...): HTTP 400."""

    def __init__(self, message: str, *, code: int | None = None):
        super().__init__(message)
        self.code = code


def _account(sandbox: SandboxCore, value: Any) -> Account:
    value = str(value or "").lstrip("@")
    found = sandbox.state.account(value) or next(
        (a for a in sandbox.state.accounts.values() if a.username == value), None
    )
    if found is None:
        raise ControlError(f"Unknown account: {value!r}")
    return found


def _user(sandbox: SandboxCore, value: Any) -> User:
    value = str(value or "").lstrip("@")
    found = sandbox.state.users.get(value) or next(
        (u for u in sandbox.state.users.values() if u.username == value), None
    )
    if found is None:
        raise ControlError(f"Unknown user: {value!r}")
    return found


def _video(sandbox: SandboxCore, account: Any, video_id: Any) -> Video:
    """The video `video_id`, or `account`'s newest when it is None (under the state's lock)."""
    if video_id is None:
        video = sandbox.state.newest_video(_account(sandbox, account).business_id)
        if video is None:
            raise ControlError("The account has no video; pass video_id.")
        return video
    video = sandbox.state.videos.get(str(video_id))
    if video is None:
        raise ControlError(f"Unknown video: {video_id!r}")
    return video


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


def delivery_result(delivery: Delivery) -> dict:
    last = delivery.attempts[-1] if delivery.attempts else {}
    return {
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "status": delivery.status,
        "http_status": last.get("status"),
        "error": last.get("error", ""),
        "attempts": len(delivery.attempts),
        "duration_ms": last.get("duration_ms"),  # how long the receiver took to answer the last attempt
    }
