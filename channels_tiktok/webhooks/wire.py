"""TikTok webhooks on the wire: signature verification, envelope parsing and the dedupe key. Pure functions.

Reading is tolerant (docs/tiktok-api.md, "As delivered"): any optional field may be missing, ids may be JSON numbers or
strings, times may be seconds or milliseconds (`as_time` decides by magnitude), a DM without `message_id` is
keyed on a digest of what identifies it (`message_key`).

`TikTok-Signature: t=<unix seconds>,s=<hex>` where `s = HMAC-SHA256(app secret, f"{t}." + raw body)`
(docs/tiktok-api.md §5).
Parsing never passes an id through a float: `json.loads` keeps integers exact, and ids are `str()`-ed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from channels_tiktok import constants
from channels_tiktok.tiktok import json_text
from clients import json_limits


class SignatureError(Exception):
    """The delivery is not TikTok's (or not fresh). `status` is the HTTP status to answer with."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class MalformedPayloadError(ValueError):
    """The body (or its `content` document) is not the JSON TikTok sends."""


_HEX = frozenset("0123456789abcdef")


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    """`t=…,s=…` → (timestamp, signatures). Parts are read by name; unknown parts are ignored.

    Only what TikTok could send gets through: the header's length, the timestamp's digits (ASCII, at most
    `SIGNATURE_TIMESTAMP_MAX_DIGITS`) and each signature (`SIGNATURE_HEX_LENGTH` hex characters) are bounded
    before `int()` or a comparison sees them; anything else is `malformed_signature_header` (400)."""
    if len(header) > constants.SIGNATURE_HEADER_MAX_CHARS:
        raise SignatureError("malformed_signature_header", status=400)
    timestamp = None
    signatures = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        value = value.strip()
        if name == "t":
            # "¹".isdigit() is True and int("¹") fails: ASCII only; the length keeps int() and the clock cheap.
            if not (value.isascii() and value.isdigit() and len(value) <= constants.SIGNATURE_TIMESTAMP_MAX_DIGITS):
                raise SignatureError("malformed_signature_header", status=400)
            timestamp = int(value)
        elif name == "s":
            value = value.lower()
            if len(value) != constants.SIGNATURE_HEX_LENGTH or not _HEX.issuperset(value):
                raise SignatureError("malformed_signature_header", status=400)
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed_signature_header", status=400)
    return timestamp, signatures


def compute_signature(*, body: bytes, secret: str, timestamp: int) -> str:
    # hmac.digest: OpenSSL's one-shot HMAC, without the Python-level HMAC object (same result as hmac.new).
    return hmac.digest(secret.encode(), f"{timestamp}.".encode() + body, "sha256").hex()


def verify_signature(*, body: bytes, header: str | None, secrets: Sequence[str], tolerance: int, now: float) -> None:
    """Raise `SignatureError` unless `header` signs `body` with one of `secrets` within `tolerance` seconds.

    Every configured secret is tried so that a secret can be rotated without losing deliveries.
    """
    if not header:
        raise SignatureError("missing_signature", status=400)
    timestamp, signatures = parse_signature_header(header)
    if abs(now - timestamp) > tolerance:
        raise SignatureError("stale_timestamp", status=401)
    for secret in secrets:
        expected = compute_signature(body=body, secret=secret, timestamp=timestamp)
        # Constant-time per comparison; stopping at the first match reveals only that some secret matched.
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return
    raise SignatureError("bad_signature", status=401)


@dataclass(frozen=True)
class Envelope:
    """One webhook delivery: TikTok's envelope with `content` parsed a second time."""

    event: str
    business_id: str
    create_time: int | None
    content: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def id_of(self, key: str) -> str:
        """A TikTok id from `content` as an exact string ("" when absent); 19-digit numbers stay exact."""
        return as_id(self.content.get(key))


def as_id(value: Any) -> str:
    """An id as an exact string: JSON numbers and strings alike ("" when absent or not an id at all)."""
    if value is None or isinstance(value, (bool, dict, list)):
        return ""
    if isinstance(value, float):
        # json.loads keeps integers exact; a float (`1.5e3`) is exact only while it is a small whole number. A
        # bigger one has already lost digits of a 19-digit id: refuse instead of storing a wrong id.
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        raise MalformedPayloadError("an id arrived as a floating-point number")
    return str(value).strip()


def as_number(value: Any) -> int | None:
    """A whole number from a JSON number or a string of digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def as_time(value: Any) -> dt.datetime | None:
    """A TikTok time, whatever its unit: seconds, milliseconds or microseconds since the epoch, decided by
    magnitude (constants.WIRE_MILLIS_FROM); a number or a string of digits. None when absent, not positive or
    out of range."""
    number = as_number(value)
    if number is None or number <= 0:
        return None
    if number >= constants.WIRE_MICROS_FROM:
        seconds = number / 1_000_000
    elif number >= constants.WIRE_MILLIS_FROM:
        seconds = number / 1000
    else:
        seconds = float(number)
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


_VIDEO_ID = re.compile(r"^\d+$")


def video_id_from_url(url: str) -> str:
    """The video id in one of TikTok's video URLs (`…/embed/v2/<id>`, `…/@user/video/<id>`, `…/v/<id>.html`,
    `?item_id=<id>`), or "" when the URL holds none (a short link such as vm.tiktok.com/…)."""
    match = re.search(r"[?&](?:item_id|video_id)=(\d+)", url)
    if match:
        return match.group(1)
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    segments = [segment for segment in path.split("/") if segment]
    for index, segment in enumerate(segments[:-1]):
        if segment in constants.VIDEO_URL_SEGMENTS:
            candidate = segments[index + 1].removesuffix(".html")
            if _VIDEO_ID.match(candidate):
                return candidate
    return ""


def parse_envelope(body: bytes) -> Envelope:
    """Parse the body and its `content` document; raise `MalformedPayloadError` when either is not JSON. A lone
    UTF-16 surrogate in any string of either becomes U+FFFD (tiktok/json_text.py). A document nested deeper than any
    TikTok sends is malformed too (json_limits.py): walking it would raise RecursionError, at intake or later."""
    try:
        raw = json_limits.loads(body, parse=json_text.loads)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayloadError(f"body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise MalformedPayloadError("body is not a JSON object")
    content = raw.get("content")
    if isinstance(content, str):
        try:
            content = json_limits.loads(content, parse=json_text.loads) if content.strip() else {}
        except ValueError as exc:
            raise MalformedPayloadError(f"content is not JSON: {exc}") from exc
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise MalformedPayloadError("content is not a JSON object")
    return Envelope(
        event=str(raw.get("event") or "").strip(),
        business_id=_id_or_empty(raw.get("user_openid")),
        # Seconds by TikTok's documentation, milliseconds in a live capture: kept as sent, read by `as_time`.
        create_time=as_number(raw.get("create_time")),
        content=content,
        raw=raw,
    )


def _id_or_empty(value: Any) -> str:
    try:
        return as_id(value)
    except MalformedPayloadError:
        return ""


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def dedupe_key(envelope: Envelope) -> str:
    """What makes two deliveries the same event (docs/tiktok-api.md §5).

    DM events: the event name and `message_id` (an echo and a receipt never share an id, but the name keeps
    them apart should they); comments: `comment_id` + `comment_action`; otherwise a hash of the envelope, made
    canonical (key order and spacing do not matter) so that a re-serialised retry still matches.
    """
    if envelope.event == constants.EVENT_COMMENT_UPDATE:
        comment_id = envelope.id_of("comment_id")
        action = str(envelope.content.get("comment_action") or "")
        if comment_id and action:
            return f"comment:{comment_id}:{action}"
    elif envelope.event in constants.MESSAGE_EVENTS:
        # A message without `message_id` is keyed on the digest of what identifies it (`message_key`).
        return f"{envelope.event}:{message_key(envelope)}"
    else:
        message_id = envelope.id_of("message_id")
        if message_id:
            return f"{envelope.event}:{message_id}"
    canonical = json.dumps({**envelope.raw, "content": envelope.content}, sort_keys=True, separators=(",", ":"))
    return f"sha256:{body_hash(canonical.encode())}"


# The fields that identify a direct message when TikTok sends no `message_id`: who wrote in which conversation,
# when, and what (the block of its type). Fields TikTok may add or drop between two deliveries of one event
# (names, roles, the follower flag, unknown fields) are left out, so a retry gets the same key.
_IDENTIFYING = ("conversation_id", "unique_identifier", "timestamp", "type", "reply_source_payload")


def message_key(envelope: Envelope) -> str:
    """The message's TikTok id, or, when the delivery has none, `digest:<hex>`: a stable digest of what
    identifies it (never the id of another message: TikTok's ids are digits). An id that went through a float
    raises `MalformedPayloadError` (it has lost digits: the delivery is refused as malformed at intake)."""
    message_id = envelope.id_of("message_id")
    if message_id:
        return message_id
    content = envelope.content
    sender = got if isinstance(got := content.get("from_user"), dict) else {}
    message_type = str(content.get("type") or "").lower()
    identity = {
        "event": envelope.event,
        "business_id": envelope.business_id,
        "create_time": envelope.create_time,
        "sender": _id_or_empty(sender.get("id")),
        **{name: content.get(name) for name in _IDENTIFYING},
        "block": content.get(message_type) if message_type else None,
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return f"digest:{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"
