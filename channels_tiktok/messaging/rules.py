"""TikTok's messaging rules (R5 to R10, R14) as pure functions over plain data.

No Django models, no HTTP: the send service, the validation endpoint and the admin describe a message and its
conversation with the dataclasses below and get back every violation, each with a stable code the bot can
branch on (B4). The sandbox does not use this module: it enforces TikTok's side on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from channels_tiktok import constants

BUTTON_CALLBACK = "callback"
BUTTON_URL = "url"
BUTTON_TYPES = (BUTTON_CALLBACK, BUTTON_URL)

WINDOW = dt.timedelta(hours=constants.WINDOW_HOURS)
WINDOW_NONE, WINDOW_OPEN, WINDOW_USED_UP, WINDOW_CLOSED = "none", "open", "used_up", "closed"
WINDOW_STATES = (WINDOW_NONE, WINDOW_OPEN, WINDOW_USED_UP, WINDOW_CLOSED)
WINDOW_REFUSALS = {WINDOW_NONE: "no_conversation", WINDOW_CLOSED: "window_closed", WINDOW_USED_UP: "quota_exhausted"}

# The bot's names of TikTok's sender actions.
SENDER_ACTIONS = {"typing": constants.SENDER_ACTION_TYPING, "mark_read": constants.SENDER_ACTION_MARK_READ}

# Every code this module can return, with what it means. The API docs list them from here.
CODES: dict[str, str] = {
    "empty_message": "The message has no text, no image and no buttons.",
    "text_too_long": f"Text is longer than {constants.MAX_TEXT_LENGTH} characters.",
    "text_and_image": "A message is either text or an image, never both.",
    "too_many_attachments": "At most one attachment per message.",
    "buttons_with_image": "Buttons are a text card: they cannot go with an image.",
    "too_many_buttons": f"At most {constants.MAX_BUTTONS} buttons per message.",
    "mixed_button_types": "Callback and url buttons cannot be mixed in one message.",
    "button_type_invalid": f"A button's type is one of {', '.join(BUTTON_TYPES)}.",
    "button_text_empty": "A button needs a text: it is what the bot receives when the button is tapped.",
    "button_text_too_long": (
        f"Callback button text is at most {constants.MAX_CALLBACK_BUTTON_TEXT} characters, url button text at most "
        f"{constants.MAX_URL_BUTTON_TEXT}."
    ),
    "text_required_with_buttons": "A message with buttons needs a text: it is the title of the button card.",
    "text_too_long_for_buttons": f"A message with buttons has at most {constants.MAX_TEXT_WITH_BUTTONS} "
    "characters of text.",
    "image_too_large": f"The image is larger than {constants.MAX_IMAGE_BYTES} bytes (3 MB).",
    "image_format_unsupported": "The image is not a JPEG or PNG (decided by the file's bytes).",
    "image_not_supported": "TikTok does not allow images in this conversation (the users' countries).",
    "text_too_long_with_fallback": f"With its buttons listed as text (the desktop fallback) the card's text is "
    f"longer than {constants.MAX_TEXT_WITH_BUTTONS} characters: shorten the text or the button titles.",
    "no_conversation": "The client has not written to the account yet: the business cannot write first.",
    "window_closed": f"More than {constants.WINDOW_HOURS} hours passed since the client's last message.",
    "quota_exhausted": f"All {constants.WINDOW_MAX_MESSAGES} messages of the window are used; the client must "
    "write again.",
    "sender_action_unknown": "A sender action is typing or mark_read.",
    "share_post_exclusive": "A shared post is a message of its own: no text, image or buttons with it.",
}

# Automatic messages (account configuration): per type, the fields of an item and their limits come from
# constants.AUTO_MESSAGE_FIELD_LIMITS; these are the codes of the limits.
_W, _Q, _P = constants.AUTO_WELCOME, constants.AUTO_SUGGESTED_QUESTION, constants.AUTO_CHAT_PROMPT
_LIMITS = constants.AUTO_MESSAGE_FIELD_LIMITS
AUTO_MESSAGE_CODES: dict[str, str] = {
    "auto_message_text_required": "Each automatic message needs every one of its texts.",
    "too_many_welcome_messages": f"An account has at most {constants.AUTO_MESSAGE_MAX_ITEMS[_W]} welcome message.",
    "welcome_message_too_long": f"A welcome message has at most {_LIMITS[_W]['content']} characters.",
    "too_many_suggested_questions": f"An account has at most {constants.AUTO_MESSAGE_MAX_ITEMS[_Q]} suggested "
    "questions.",
    "suggested_question_too_long": f"A suggested question has at most {_LIMITS[_Q]['question']} characters.",
    "suggested_answer_too_long": f"A suggested question's answer has at most {_LIMITS[_Q]['answer']} characters.",
    "too_many_chat_prompts": f"An account has at most {constants.AUTO_MESSAGE_MAX_ITEMS[_P]} chat prompts.",
    "chat_prompt_title_too_long": f"A chat prompt's title has at most {_LIMITS[_P]['title']} characters.",
    "chat_prompt_content_too_long": f"A chat prompt's content has at most {_LIMITS[_P]['content']} characters.",
}
_AUTO_TOO_MANY = {_W: "too_many_welcome_messages", _Q: "too_many_suggested_questions", _P: "too_many_chat_prompts"}
_AUTO_TOO_LONG = {
    (_W, "content"): "welcome_message_too_long",
    (_Q, "question"): "suggested_question_too_long",
    (_Q, "answer"): "suggested_answer_too_long",
    (_P, "title"): "chat_prompt_title_too_long",
    (_P, "content"): "chat_prompt_content_too_long",
}

WARNING_CODES: dict[str, str] = {
    "buttons_hidden_on_desktop": "Desktop TikTok does not show messages with buttons.",
}

# Refusals that are about the conversation's state rather than the message: the send API answers them 409.
CONVERSATION_CODES = frozenset(WINDOW_REFUSALS.values())

# The slot budget: a send asked to keep the window's last message free for a send marked `last`.
SLOT_CODES: dict[str, str] = {
    "last_slot_reserved": "Only the window's last message is left and this send asked to keep it for a send "
    "marked `last`.",
}


def slot_refusal(messages_left: int, *, reserve_last: bool, last: bool) -> str | None:
    """Whether a send may take one of `messages_left` slots: a send with `reserve_last` (and not itself `last`)
    leaves the last one free. None: it may; else the code (the window's own refusals are `window_verdict`'s)."""
    if messages_left == 1 and reserve_last and not last:
        return "last_slot_reserved"
    return None


@dataclass(frozen=True)
class Button:
    type: str
    text: str
    url: str = ""


@dataclass(frozen=True)
class Image:
    """An image attachment. `size` and `format` are None until the bytes are known (a URL not fetched yet)."""

    size: int | None = None
    format: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    text: str = ""
    buttons: tuple[Button, ...] = ()
    images: tuple[Image, ...] = ()
    share_post: str = ""  # the item_id of the account's own post to share


@dataclass(frozen=True)
class ConversationFacts:
    """What we know of the client's conversation. `conversation_id` empty: the client never wrote."""

    conversation_id: str = ""
    last_inbound_at: dt.datetime | None = None
    window_sent: int = 0
    image_send_allowed: bool | None = None


@dataclass(frozen=True)
class WindowVerdict:
    """Where a conversation's messaging window stands (R5, R6): the one answer every caller shows or enforces."""

    state: str  # one of WINDOW_STATES
    expires_at: dt.datetime | None  # None: the client never wrote
    messages_left: int

    @property
    def open(self) -> bool:
        return self.state == WINDOW_OPEN

    @property
    def refusal(self) -> str | None:
        """The code a send gets while the window stands like this (None: one more message fits)."""
        return WINDOW_REFUSALS.get(self.state)


def window_verdict(last_inbound_at: dt.datetime | None, window_sent: int, *, now: dt.datetime) -> WindowVerdict:
    """After each client message the business may send `WINDOW_MAX_MESSAGES` messages within `WINDOW_HOURS`.
    A closed window wins over a used-up quota (the client must write again either way, but this says why)."""
    if last_inbound_at is None:
        return WindowVerdict(state=WINDOW_NONE, expires_at=None, messages_left=0)
    expires_at = last_inbound_at + WINDOW
    if now >= expires_at:
        return WindowVerdict(state=WINDOW_CLOSED, expires_at=expires_at, messages_left=0)
    left = max(constants.WINDOW_MAX_MESSAGES - window_sent, 0)
    return WindowVerdict(state=WINDOW_OPEN if left else WINDOW_USED_UP, expires_at=expires_at, messages_left=left)


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    errors: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _violation(code: str, field_name: str | None = None, message: str | None = None) -> Violation:
    return Violation(code=code, field=field_name, message=message or CODES[code])


def _button_limit(button_type: str) -> int:
    return constants.MAX_CALLBACK_BUTTON_TEXT if button_type == BUTTON_CALLBACK else constants.MAX_URL_BUTTON_TEXT


def check_buttons(message: OutgoingMessage) -> list[Violation]:
    """R14: count, kinds, button texts and the card title."""
    buttons = message.buttons
    if not buttons:
        return []
    errors = []
    if len(buttons) > constants.MAX_BUTTONS:
        errors.append(_violation("too_many_buttons", "buttons"))
    if len({b.type for b in buttons if b.type in BUTTON_TYPES}) > 1:
        errors.append(_violation("mixed_button_types", "buttons"))
    for index, button in enumerate(buttons):
        where = f"buttons.{index}"
        if button.type not in BUTTON_TYPES:
            errors.append(_violation("button_type_invalid", f"{where}.type"))
            continue
        if not button.text.strip():
            errors.append(_violation("button_text_empty", f"{where}.text"))
        elif len(button.text) > _button_limit(button.type):
            limit = _button_limit(button.type)
            errors.append(
                _violation(
                    "button_text_too_long",
                    f"{where}.text",
                    f"A {button.type} button's text is at most {limit} characters; this one has {len(button.text)}.",
                )
            )
    if not message.text.strip():
        errors.append(_violation("text_required_with_buttons", "text"))
    elif len(message.text) > constants.MAX_TEXT_WITH_BUTTONS:
        errors.append(_violation("text_too_long_for_buttons", "text"))
    return errors


def check_image(image: Image, *, field_name: str = "image") -> list[Violation]:
    """R9 for one image whose bytes are known; unknown size or format is not judged here."""
    errors = []
    if image.size is not None and image.size > constants.MAX_IMAGE_BYTES:
        errors.append(_violation("image_too_large", field_name))
    if image.format is not None and image.format not in constants.IMAGE_FORMATS:
        errors.append(_violation("image_format_unsupported", field_name))
    return errors


def check_content(message: OutgoingMessage) -> list[Violation]:
    """Everything about the message itself (R7, R9, R10, R14, text length, emptiness, a shared post alone)."""
    has_text = bool(message.text.strip())
    if message.share_post:
        if has_text or message.images or message.buttons:
            return [_violation("share_post_exclusive", "share_post")]
        return []
    if not has_text and not message.images and not message.buttons:
        return [_violation("empty_message")]
    errors = []
    if message.images and has_text:
        errors.append(_violation("text_and_image", "image"))
    if len(message.images) > 1:
        errors.append(_violation("too_many_attachments", "image"))
    if message.images and message.buttons:
        errors.append(_violation("buttons_with_image", "buttons"))
    if len(message.text) > constants.MAX_TEXT_LENGTH:
        errors.append(_violation("text_too_long", "text"))
    errors.extend(check_buttons(message))
    for image in message.images:
        errors.extend(check_image(image))
    return errors


def check_conversation(
    message: OutgoingMessage, conversation: ConversationFacts | None, *, now: dt.datetime
) -> list[Violation]:
    """R5, R6 (one more message must fit the window) and R8 (when the conversation's capability is known)."""
    if conversation is None or not conversation.conversation_id:
        return [_violation("no_conversation")]
    verdict = window_verdict(conversation.last_inbound_at, conversation.window_sent, now=now)
    if verdict.state == WINDOW_NONE:
        return [_violation("no_conversation")]
    errors = [_violation(verdict.refusal)] if verdict.refusal else []
    if message.images and conversation.image_send_allowed is False:
        errors.append(_violation("image_not_supported", "image"))
    return errors


def check_sender_actions(actions: list[str] | tuple[str, ...], *, field_name: str = "action") -> list[Violation]:
    """Each sender action must be one of `SENDER_ACTIONS`; `field_name` gets the index when several."""
    errors = []
    for index, action in enumerate(actions):
        if action not in SENDER_ACTIONS:
            where = field_name if len(actions) == 1 and field_name == "action" else f"{field_name}.{index}"
            errors.append(_violation("sender_action_unknown", where))
    return errors


def check_window_open(conversation: ConversationFacts | None, *, now: dt.datetime) -> list[Violation]:
    """A sender action needs the open window (the client wrote within 48 hours) but takes no message of it."""
    if conversation is None or not conversation.conversation_id or conversation.last_inbound_at is None:
        return [_violation("no_conversation")]
    if now >= conversation.last_inbound_at + WINDOW:
        return [_violation("window_closed")]
    return []


def check_auto_messages(auto_message_type: str, items: list[dict], *, field_name: str = "items") -> list[Violation]:
    """One type's automatic messages: how many, and each item's texts (`items` are dicts named as TikTok names
    the type's fields, e.g. `{"question", "answer"}`)."""
    errors = []
    if len(items) > constants.AUTO_MESSAGE_MAX_ITEMS[auto_message_type]:
        code = _AUTO_TOO_MANY[auto_message_type]
        errors.append(Violation(code, AUTO_MESSAGE_CODES[code], field_name))
    for index, item in enumerate(items):
        for name, limit in constants.AUTO_MESSAGE_FIELD_LIMITS[auto_message_type].items():
            text = str(item.get(name) or "")
            where = f"{field_name}.{index}.{name}"
            if not text.strip():
                errors.append(
                    Violation("auto_message_text_required", AUTO_MESSAGE_CODES["auto_message_text_required"], where)
                )
            elif len(text) > limit:
                code = _AUTO_TOO_LONG[(auto_message_type, name)]
                errors.append(Violation(code, AUTO_MESSAGE_CODES[code], where))
    return errors


# The bot's comment moderation: action -> what it asks of TikTok.
COMMENT_MODERATION_ACTIONS = ("hide", "unhide", "like", "unlike", "delete")
COMMENT_ACTION_CODES: dict[str, str] = {
    "comment_action_unknown": f"A comment action is one of {', '.join(COMMENT_MODERATION_ACTIONS)}.",
    "comment_video_required": "Hiding or unhiding a comment needs its video_id.",
}
# Refused before TikTok is asked, once the comment's author is known (not a pure rule: it needs a lookup).
COMMENT_NOT_OWN = "Only the account's own comments can be deleted; hide other users' comments instead."


def check_comment_action(action: str, *, video_id: str) -> list[Violation]:
    """A moderation action must be known; hide and unhide need the comment's video."""
    if action not in COMMENT_MODERATION_ACTIONS:
        return [Violation("comment_action_unknown", COMMENT_ACTION_CODES["comment_action_unknown"], "action")]
    if action in ("hide", "unhide") and not video_id:
        return [Violation("comment_video_required", COMMENT_ACTION_CODES["comment_video_required"], "video_id")]
    return []


def warnings_for(message: OutgoingMessage) -> list[Violation]:
    if message.buttons:
        code = "buttons_hidden_on_desktop"
        return [Violation(code=code, field="buttons", message=WARNING_CODES[code])]
    return []


def check(
    message: OutgoingMessage, *, conversation: ConversationFacts | None = None, now: dt.datetime | None = None
) -> Verdict:
    """Every rule. Without a conversation only the message itself is judged (design time, no client yet);
    an empty `ConversationFacts()` stands for a client who never wrote."""
    errors = check_content(message)
    if conversation is not None:
        if now is None:
            raise ValueError("Judging a conversation needs the current time.")
        errors.extend(check_conversation(message, conversation, now=now))
    return Verdict(errors=errors, warnings=warnings_for(message))


def comment_dm_refusal(
    *,
    business_country: str,
    commented_at: dt.datetime,
    replied: bool,
    last_dm_at: dt.datetime | None,
    now: dt.datetime,
) -> str | None:
    """Why a comment's one private message cannot be sent, as far as we know before asking TikTok (the
    commenter's region and age only TikTok knows); None when nothing we know forbids it."""
    if business_country not in constants.COMMENT_REPLY_BUSINESS_COUNTRIES:
        return "comment_dm_business_region"
    if now - commented_at > dt.timedelta(hours=constants.COMMENT_REPLY_HOURS):
        return "comment_dm_expired"
    if replied:
        return "comment_dm_already_replied"
    if last_dm_at is not None and now - last_dm_at < dt.timedelta(hours=constants.COMMENT_REPLY_NO_EXCHANGE_HOURS):
        return "comment_dm_recent_exchange"
    return None
