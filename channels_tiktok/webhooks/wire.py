"""TikTok webhooks on the wire: signature verification, envelope parsing and the dedupe key. Pure functions.

`TikTok-Signature: t=<unix seconds>,s=<hex>` where `s = HMAC-SHA256(app secret, f"{t}." + raw body)` (spec §5).
Parsing never passes an id through a float: `json.loads` keeps integers exact, and ids are `str()`-ed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from channels_tiktok import constants
from channels_tiktok.tiktok import json_text
from clients import json_limits


class SignatureError(Exception):
    """The delivery is not TikTok's (or not fresh). `status` is the HTTP status to answer with."""

    def __init__(self, reason: str, *, status: int):
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
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float):
        # A float has already lost digits of a 19-digit id: refuse instead of storing a wrong id.
        raise MalformedPayloadError("an id arrived as a floating-point number")
    return str(value)


def parse_envelope(body: bytes) -> Envelope:
    """Parse the body and its `content` document; raise `MalformedPayloadError` when either is not JSON. A lone
    UTF-16 surrogate in any string of either becomes U+FFFD (json_text.py). A document nested deeper than any
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
    create_time = raw.get("create_time")
    return Envelope(
        event=str(raw.get("event") or ""),
        business_id=as_id(raw.get("user_openid")),
        create_time=create_time if isinstance(create_time, int) and not isinstance(create_time, bool) else None,
        content=content,
        raw=raw,
    )


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def dedupe_key(envelope: Envelope) -> str:
    """What makes two deliveries the same event (spec §5).

    DM events: the event name and `message_id` (an echo and a receipt never share an id, but the name keeps
    them apart should they); comments: `comment_id` + `comment_action`; otherwise a hash of the envelope, made
    canonical (key order and spacing do not matter) so that a re-serialised retry still matches.
    """
    if envelope.event == constants.EVENT_COMMENT_UPDATE:
        comment_id = envelope.id_of("comment_id")
        action = str(envelope.content.get("comment_action") or "")
        if comment_id and action:
            return f"comment:{comment_id}:{action}"
    else:
        message_id = envelope.id_of("message_id")
        if message_id:
            return f"{envelope.event}:{message_id}"
    canonical = json.dumps({**envelope.raw, "content": envelope.content}, sort_keys=True, separators=(",", ":"))
    return f"sha256:{body_hash(canonical.encode())}"
