"""How deep a JSON document may nest before we refuse it, checked cheaply.

Nothing we accept nests deeper than a few levels, but `json.loads` accepts (and Python code walking the result
recurses through) a document of a thousand levels, and one of a few thousand raises RecursionError: a 500 on
an API call, a webhook delivery retried by its sender for days. `loads` refuses both as a ValueError.
The check costs two `count()` calls on the raw text; only a document with more openers than the limit is walked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

MAX_DEPTH = 64


class TooDeepError(ValueError):
    """The document nests more than `MAX_DEPTH` levels of objects and arrays."""


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` holds objects/arrays nested more than `limit` deep (iterative: never recurses)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _openers(document: bytes | str) -> int:
    if isinstance(document, bytes):
        return document.count(b"{") + document.count(b"[")
    return document.count("{") + document.count("[")


def loads(
    document: bytes | str, *, parse: Callable[[Any], Any] = json.loads, limit: int = MAX_DEPTH, **kwargs: Any
) -> Any:
    """`parse(document)` refusing documents nested more than `limit` deep with TooDeepError (a ValueError)."""
    try:
        value = parse(document, **kwargs)
    except RecursionError as exc:
        raise TooDeepError(f"nested more than {limit} levels deep") from exc
    if _openers(document) > limit and depth_exceeds(value, limit):
        raise TooDeepError(f"nested more than {limit} levels deep")
    return value
