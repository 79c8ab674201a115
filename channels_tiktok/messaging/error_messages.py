"""The channel's API messages in the caller's language (B9), by stable code.

The rules, images, comments and outbound modules keep their English messages as plain data (they are pure and
Django-free); this table holds the same sentences as translatable templates. `clients.api_errors` swaps a message
for the translation only when it is exactly the documented English one, so messages carrying live details (TikTok's
own error text, a retry delay) pass unchanged. A test checks that each template renders to the English source.
"""

from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext

from channels_tiktok import constants
from channels_tiktok.messaging.images import MAX_REDIRECTS
from channels_tiktok.messaging.rules import BUTTON_TYPES, COMMENT_MODERATION_ACTIONS
from clients.api_errors import localize_codes


def _t(template: str, **params: Any) -> str:
    return gettext(template) % params if params else gettext(template)


# Named `_` so that makemessages extracts the templates; rendered (and translated) when the API answers.
_ = lazy(_t, str)

_W, _Q, _P = constants.AUTO_WELCOME, constants.AUTO_SUGGESTED_QUESTION, constants.AUTO_CHAT_PROMPT
_MAX, _LIM = constants.AUTO_MESSAGE_MAX_ITEMS, constants.AUTO_MESSAGE_FIELD_LIMITS

MESSAGES = {
    # rules.CODES
    "empty_message": _("The message has no text, no image and no buttons."),
    "text_too_long": _("Text is longer than %(max)d characters.", max=constants.MAX_TEXT_LENGTH),
    "text_and_image": _("A message is either text or an image, never both."),
    "too_many_attachments": _("At most one attachment per message."),
    "buttons_with_image": _("Buttons are a text card: they cannot go with an image."),
    "too_many_buttons": _("At most %(max)d buttons per message.", max=constants.MAX_BUTTONS),
    "mixed_button_types": _("Callback and url buttons cannot be mixed in one message."),
    "button_type_invalid": _("A button's type is one of %(types)s.", types=", ".join(BUTTON_TYPES)),
    "button_text_empty": _("A button needs a text: it is what the bot receives when the button is tapped."),
    "button_text_too_long": _(
        "Callback button text is at most %(callback)d characters, url button text at most %(url)d.",
        callback=constants.MAX_CALLBACK_BUTTON_TEXT,
        url=constants.MAX_URL_BUTTON_TEXT,
    ),
    "text_required_with_buttons": _("A message with buttons needs a text: it is the title of the button card."),
    "text_too_long_for_buttons": _(
        "A message with buttons has at most %(max)d characters of text.", max=constants.MAX_TEXT_WITH_BUTTONS
    ),
    "text_too_long_with_fallback": _(
        "With its buttons listed as text (the desktop fallback) the card's text is longer than %(max)d "
        "characters: shorten the text or the button titles.",
        max=constants.MAX_TEXT_WITH_BUTTONS,
    ),
    "image_too_large": _("The image is larger than %(max)d bytes (3 MB).", max=constants.MAX_IMAGE_BYTES),
    "image_format_unsupported": _("The image is not a JPEG or PNG (decided by the file's bytes)."),
    "image_not_supported": _("TikTok does not allow images in this conversation (the users' countries)."),
    "no_conversation": _("The client has not written to the account yet: the business cannot write first."),
    "window_closed": _(
        "More than %(hours)d hours passed since the client's last message.", hours=constants.WINDOW_HOURS
    ),
    "quota_exhausted": _(
        "All %(max)d messages of the window are used; the client must write again.",
        max=constants.WINDOW_MAX_MESSAGES,
    ),
    "sender_action_unknown": _("A sender action is typing or mark_read."),
    "share_post_exclusive": _("A shared post is a message of its own: no text, image or buttons with it."),
    # rules.AUTO_MESSAGE_CODES
    "auto_message_text_required": _("Each automatic message needs every one of its texts."),
    "too_many_welcome_messages": _("An account has at most %(max)d welcome message.", max=_MAX[_W]),
    "welcome_message_too_long": _("A welcome message has at most %(max)d characters.", max=_LIM[_W]["content"]),
    "too_many_suggested_questions": _("An account has at most %(max)d suggested questions.", max=_MAX[_Q]),
    "suggested_question_too_long": _("A suggested question has at most %(max)d characters.", max=_LIM[_Q]["question"]),
    "suggested_answer_too_long": _(
        "A suggested question's answer has at most %(max)d characters.", max=_LIM[_Q]["answer"]
    ),
    "too_many_chat_prompts": _("An account has at most %(max)d chat prompts.", max=_MAX[_P]),
    "chat_prompt_title_too_long": _("A chat prompt's title has at most %(max)d characters.", max=_LIM[_P]["title"]),
    "chat_prompt_content_too_long": _(
        "A chat prompt's content has at most %(max)d characters.", max=_LIM[_P]["content"]
    ),
    # comment_moderation.CODES
    "comment_action_unknown": _(
        "A comment action is one of %(actions)s.", actions=", ".join(COMMENT_MODERATION_ACTIONS)
    ),
    "comment_video_required": _("Hiding or unhiding a comment needs its video_id."),
    "comment_not_own": _("Only the account's own comments can be deleted; hide other users' comments instead."),
    # videos.CODES
    "share_post_not_own": _("The post to share is not one of the account's own posts (TikTok shares only those)."),
    # rules.WARNING_CODES
    "buttons_hidden_on_desktop": _("Desktop TikTok does not show messages with buttons."),
    # images.CODES
    "image_url_invalid": _("The image URL is not an http(s) URL with a host name."),
    "image_url_forbidden": _("The image URL points to a private, loopback, link-local or reserved address."),
    "image_too_many_redirects": _("The image URL redirects more than %(max)d times.", max=MAX_REDIRECTS),
    "image_fetch_failed": _("The image could not be downloaded (network error, timeout or a non-200 answer)."),
    # comments.CODES
    "comment_text_required": _("A comment reply needs a text."),
    "comment_text_too_long": _(
        "A comment reply has at most %(max)d characters.", max=constants.MAX_COMMENT_REPLY_LENGTH
    ),
    "comment_target_missing": _(
        "No comment to answer: give comment_video_id and comment_id, or let the client comment first (they fill "
        "tiktok_comment_video_id and tiktok_comment_id)."
    ),
    # comment_dm.CODES
    "comment_dm_unknown_comment": _(
        "No high-intent comment with this id from this client: only comments TikTok flagged as high-intent "
        "can be answered in a private message."
    ),
    "comment_dm_business_region": _(
        "Answering a comment in a private message is available to businesses registered in Vietnam, Indonesia "
        "or Thailand only."
    ),
    "comment_dm_commenter_region": _(
        "The commenter is not in Asia-Pacific, Latin America or the Middle East, Turkey, Africa and Pakistan: "
        "TikTok does not allow a private reply."
    ),
    "comment_dm_not_eligible": _("Only a first-level comment on the account's own video can be answered privately."),
    "comment_dm_expired": _("The comment is more than 48 hours old: it can no longer be answered privately."),
    "comment_dm_already_replied": _("The comment was already answered with a private message (only one is allowed)."),
    "comment_dm_recent_exchange": _(
        "The client and the account exchanged messages in the past 24 hours: answer in the conversation instead."
    ),
    "comment_dm_commenter_minor": _("The commenter is under 18: TikTok does not allow a private reply."),
    "comment_dm_disabled": _("Comment-to-message is switched off for this account: switch it on first."),
    # outbound.CONFLICT_CODES
    "missing_scope": _("The account did not grant the permission this needs; reconnect it and allow it."),
}


def register() -> None:
    localize_codes(MESSAGES)
