"""JSON from TikTok as our databases can store it.

JSON may escape half of a UTF-16 surrogate pair on its own (`\\ud83d` without its partner: a text cut in the middle
of an emoji). `json.loads` turns it into a lone surrogate, which no UTF-8 column can hold: every write of it would
fail, and a webhook delivery failing at intake would be retried by TikTok for 72 hours. `loads` gives each such
character as U+FFFD, as an undecodable byte is given. Only a document holding an escape from `\\uD800` to
`\\uDFFF` is walked (an emoji written as a pair is one); valid pairs are whole characters by then and stay.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ESCAPE_IN_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_ESCAPE_IN_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(document: bytes | str) -> Any:
    """`json.loads`, with every lone surrogate of every string (keys included) replaced by U+FFFD."""
    value = json.loads(document)
    if isinstance(document, bytes):
        escaped = _ESCAPE_IN_BYTES.search(document) is not None
    else:
        escaped = _ESCAPE_IN_TEXT.search(document) is not None
    return _without_lone_surrogates(value) if escaped else value


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    return value
