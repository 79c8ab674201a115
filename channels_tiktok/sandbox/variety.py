"""Variety mode: webhooks in the many shapes real TikTok sends, not the one tidy form of sandbox/events.py.

Switched on with `configure(variety=True, variety_seed=<n>)`. Each delivery is varied by a generator seeded with
the seed and the delivery id, so a run is repeatable. What changes, each by chance, is what real payloads were
seen to do (docs/tiktok-api.md, "As delivered"):

- the envelope's `create_time` in milliseconds (the documentation says seconds; a live capture shows ms);
- the content's `timestamp` left out, or in seconds instead of milliseconds;
- digit ids (message, comment, video, parent comment, a share's video) as JSON numbers or strings;
- optional fields left out: `from`/`to` names, the parties' roles, `is_follower`, `unique_identifier` where
  `from_user.id` names the sender, a comment's author, `comment_type`, an empty `parent_comment_id`, a share's
  `video_id` (its embed URL still holds it), a text message's `message_id`;
- fields the sandbox never sends otherwise: `scene_type`, `message_tag` on incoming messages, a comment's `text`
  in `comment.update`, and a field nobody documents.
"""

from __future__ import annotations

import copy
import random
from typing import TYPE_CHECKING, Any

from channels_tiktok import constants

if TYPE_CHECKING:
    from channels_tiktok.sandbox.state import SandboxState

ID_FIELDS = ("message_id", "comment_id", "video_id", "parent_comment_id")
UNKNOWN_FIELD = "x_field_nobody_documents"


def _retype(value: Any, rng: random.Random) -> Any:
    """A digit id as a JSON number or a string, by chance."""
    text = str(value)
    if not text.isdigit() or text.startswith("0"):
        return value
    return int(text) if rng.random() < 0.5 else text


def _drop(content: dict, key: str, rng: random.Random, chance: float) -> None:
    if key in content and rng.random() < chance:
        del content[key]


def _vary_parties(content: dict, rng: random.Random) -> None:
    for name in ("from", "to"):
        _drop(content, name, rng, 0.3)
    for party in ("from_user", "to_user"):
        if isinstance(content.get(party), dict) and rng.random() < 0.4:
            content[party] = {key: value for key, value in content[party].items() if key != "role"}
    sender = content.get("from_user")
    if isinstance(sender, dict) and sender.get("id"):
        _drop(content, "unique_identifier", rng, 0.3)


def _vary_message(event: str, content: dict, rng: random.Random) -> None:
    _vary_parties(content, rng)
    message_type = content.get("type")
    if event == constants.EVENT_RECEIVE_MSG:
        _drop(content, "is_follower", rng, 0.3)
        if rng.random() < 0.3:
            content["message_tag"] = {}
        if message_type == constants.MSG_TYPE_TEXT and "reply_source_payload" not in content:
            _drop(content, "message_id", rng, 0.2)
    share = content.get(constants.MSG_TYPE_SHARE_POST)
    if isinstance(share, dict):
        if "embed_url" in share:
            _drop(share, "video_id", rng, 0.5)
        if "video_id" in share:
            share["video_id"] = _retype(share["video_id"], rng)


def _vary_comment(state: SandboxState, content: dict, rng: random.Random) -> None:
    comment = state.comments.get(str(content.get("comment_id")))
    if comment is not None and rng.random() < 0.4:
        content["text"] = comment.text  # some comment.update payloads carry the text
    else:
        _drop(content, "unique_identifier", rng, 0.3)  # its author: read with comment/list
    _drop(content, "comment_type", rng, 0.3)
    if not content.get("parent_comment_id"):
        _drop(content, "parent_comment_id", rng, 0.5)


def vary(
    state: SandboxState, event: str, content: dict, *, seed: int, create_time: int, delivery_id: int
) -> tuple[dict, int]:
    """The content and envelope `create_time` of one delivery, varied as real TikTok varies them."""
    rng = random.Random(f"{seed}:{delivery_id}")
    content = copy.deepcopy(content)
    if event == constants.EVENT_COMMENT_UPDATE:
        _vary_comment(state, content, rng)
    elif event in (constants.EVENT_RECEIVE_MSG, constants.EVENT_SEND_MSG, constants.EVENT_MARK_READ):
        _vary_message(event, content, rng)
    if isinstance(content.get("timestamp"), int):
        roll = rng.random()
        if roll < 0.3:
            del content["timestamp"]
        elif roll < 0.5:
            content["timestamp"] //= 1000  # seconds, as some payloads carry it
    for key in ID_FIELDS:
        if key in content:
            content[key] = _retype(content[key], rng)
    if rng.random() < 0.5:
        content["scene_type"] = rng.choice((1, 2))
    if rng.random() < 0.3:
        content[UNKNOWN_FIELD] = {"nested": [1, "two", None]}
    if rng.random() < 0.5:
        create_time *= 1000  # milliseconds
    return content, create_time
