"""The messaging rules (R5 to R10, R14) at their boundaries, plus properties of the text and button rules."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels_tiktok import constants
from channels_tiktok.messaging import rules
from channels_tiktok.messaging.rules import Button, ConversationFacts, Image, OutgoingMessage

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
MB3 = constants.MAX_IMAGE_BYTES


def codes(message, conversation=None, now=NOW):
    verdict = rules.check(message, conversation=conversation, now=now)
    return [v.code for v in verdict.errors]


def open_conversation(**kwargs):
    defaults = {"conversation_id": "0:1:abc+def", "last_inbound_at": NOW - dt.timedelta(hours=1), "window_sent": 0}
    return ConversationFacts(**{**defaults, **kwargs})


def callbacks(*texts):
    return tuple(Button(type="callback", text=t) for t in texts)


# --- content
def test_plain_text_is_valid_and_has_no_warnings():
    verdict = rules.check(OutgoingMessage(text="hello"))
    assert verdict.valid
    assert verdict.errors == []
    assert verdict.warnings == []


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_message(text):
    assert codes(OutgoingMessage(text=text)) == ["empty_message"]


def test_text_length_boundary():
    assert codes(OutgoingMessage(text="x" * constants.MAX_TEXT_LENGTH)) == []
    assert codes(OutgoingMessage(text="x" * (constants.MAX_TEXT_LENGTH + 1))) == ["text_too_long"]


def test_text_and_image_together_is_refused():
    assert codes(OutgoingMessage(text="look", images=(Image(size=10, format="png"),))) == ["text_and_image"]
    assert codes(OutgoingMessage(images=(Image(size=10, format="png"),))) == []


def test_more_than_one_attachment():
    two = (Image(size=10, format="png"), Image(size=10, format="jpeg"))
    assert codes(OutgoingMessage(images=two)) == ["too_many_attachments"]


def test_image_size_boundary():
    assert codes(OutgoingMessage(images=(Image(size=MB3, format="jpeg"),))) == []
    assert codes(OutgoingMessage(images=(Image(size=MB3 + 1, format="jpeg"),))) == ["image_too_large"]


@pytest.mark.parametrize(("fmt", "expected"), [("jpeg", []), ("png", []), ("gif", ["image_format_unsupported"])])
def test_image_format(fmt, expected):
    assert codes(OutgoingMessage(images=(Image(size=100, format=fmt),))) == expected


def test_unknown_image_bytes_are_not_judged_yet():
    assert codes(OutgoingMessage(images=(Image(),))) == []


def test_buttons_with_image_are_refused():
    message = OutgoingMessage(images=(Image(size=1, format="png"),), buttons=callbacks("Yes"))
    assert "buttons_with_image" in codes(message)


# --- buttons, R14
def test_button_count_boundary():
    assert codes(OutgoingMessage(text="Pick", buttons=callbacks("a", "b", "c"))) == []
    assert codes(OutgoingMessage(text="Pick", buttons=callbacks("a", "b", "c", "d"))) == ["too_many_buttons"]


def test_mixed_button_kinds():
    buttons = (Button(type="callback", text="Yes"), Button(type="url", text="Site", url="https://example.com"))
    assert codes(OutgoingMessage(text="Pick", buttons=buttons)) == ["mixed_button_types"]


def test_callback_button_text_boundary():
    assert codes(OutgoingMessage(text="Pick", buttons=callbacks("x" * 20))) == []
    verdict = rules.check(OutgoingMessage(text="Pick", buttons=callbacks("x" * 21)))
    assert [(v.code, v.field) for v in verdict.errors] == [("button_text_too_long", "buttons.0.text")]
    assert "20" in verdict.errors[0].message


def test_url_button_text_boundary():
    ok = (Button(type="url", text="x" * 40, url="https://example.com"),)
    too_long = (Button(type="url", text="x" * 41, url="https://example.com"),)
    assert codes(OutgoingMessage(text="Pick", buttons=ok)) == []
    assert codes(OutgoingMessage(text="Pick", buttons=too_long)) == ["button_text_too_long"]


def test_message_text_with_buttons_boundary():
    assert codes(OutgoingMessage(text="x" * 40, buttons=callbacks("Yes"))) == []
    assert codes(OutgoingMessage(text="x" * 41, buttons=callbacks("Yes"))) == ["text_too_long_for_buttons"]


def test_buttons_need_a_card_title():
    assert codes(OutgoingMessage(text="", buttons=callbacks("Yes"))) == ["text_required_with_buttons"]


def test_empty_button_text():
    verdict = rules.check(OutgoingMessage(text="Pick", buttons=callbacks("ok", " ")))
    assert [(v.code, v.field) for v in verdict.errors] == [("button_text_empty", "buttons.1.text")]


def test_unknown_button_type():
    assert codes(OutgoingMessage(text="Pick", buttons=(Button(type="call", text="x"),))) == ["button_type_invalid"]


def test_every_violation_is_returned_not_only_the_first():
    message = OutgoingMessage(text="x" * 41, buttons=callbacks("a" * 21, "b", "", "d"))
    assert sorted(codes(message)) == sorted(
        ["too_many_buttons", "button_text_too_long", "button_text_empty", "text_too_long_for_buttons"]
    )


def test_buttons_warn_about_desktop():
    verdict = rules.check(OutgoingMessage(text="Pick", buttons=callbacks("Yes")))
    assert verdict.valid
    assert [w.code for w in verdict.warnings] == ["buttons_hidden_on_desktop"]


# --- conversation: R5, R6, R8
def test_no_conversation():
    assert codes(OutgoingMessage(text="hi"), ConversationFacts()) == ["no_conversation"]


def test_conversation_not_judged_without_facts():
    assert codes(OutgoingMessage(text="hi"), None) == []


def test_judging_a_conversation_needs_the_time():
    with pytest.raises(ValueError, match="time"):
        rules.check(OutgoingMessage(text="hi"), conversation=open_conversation(), now=None)


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (dt.timedelta(hours=47, minutes=59), []),
        (dt.timedelta(hours=48) - dt.timedelta(microseconds=1), []),
        (dt.timedelta(hours=48), ["window_closed"]),
        (dt.timedelta(hours=48, minutes=1), ["window_closed"]),
    ],
)
def test_window_boundary(elapsed, expected):
    conversation = open_conversation(last_inbound_at=NOW - elapsed)
    assert codes(OutgoingMessage(text="hi"), conversation) == expected


def test_quota_boundary():
    # window_sent messages already went out: the 10th send sees 9 sent, the 11th sees 10.
    assert codes(OutgoingMessage(text="hi"), open_conversation(window_sent=9)) == []
    assert codes(OutgoingMessage(text="hi"), open_conversation(window_sent=10)) == ["quota_exhausted"]


def test_closed_window_wins_over_quota():
    conversation = open_conversation(last_inbound_at=NOW - dt.timedelta(hours=49), window_sent=10)
    assert codes(OutgoingMessage(text="hi"), conversation) == ["window_closed"]


@pytest.mark.parametrize(("allowed", "expected"), [(True, []), (None, []), (False, ["image_not_supported"])])
def test_image_capability(allowed, expected):
    message = OutgoingMessage(images=(Image(size=10, format="png"),))
    assert codes(message, open_conversation(image_send_allowed=allowed)) == expected


def test_image_capability_matters_only_for_images():
    assert codes(OutgoingMessage(text="hi"), open_conversation(image_send_allowed=False)) == []


def test_every_code_is_documented():
    documented = set(rules.CODES)
    assert {"no_conversation", "window_closed", "quota_exhausted", "button_text_too_long"} <= documented
    assert documented >= rules.CONVERSATION_CODES


# --- properties
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)


@given(text=st.text(min_size=1, max_size=7000).filter(str.strip))
def test_property_text_alone_is_valid_exactly_up_to_the_limit(text):
    assert rules.check(OutgoingMessage(text=text)).valid is (len(text) <= constants.MAX_TEXT_LENGTH)


@given(
    kind=st.sampled_from(rules.BUTTON_TYPES),
    title=texts.filter(str.strip),
    labels=st.lists(texts, min_size=1, max_size=6),
)
def test_property_buttons_valid_iff_each_rule_holds(kind, title, labels):
    limit = constants.MAX_CALLBACK_BUTTON_TEXT if kind == "callback" else constants.MAX_URL_BUTTON_TEXT
    message = OutgoingMessage(text=title, buttons=tuple(Button(type=kind, text=label) for label in labels))
    expected = (
        len(labels) <= constants.MAX_BUTTONS
        and all(label.strip() and len(label) <= limit for label in labels)
        and len(title) <= constants.MAX_TEXT_WITH_BUTTONS
    )
    verdict = rules.check(message)
    assert verdict.valid is bool(expected)
    assert all(v.code in rules.CODES for v in verdict.errors)
    assert [w.code for w in verdict.warnings] == ["buttons_hidden_on_desktop"]


@given(kinds=st.lists(st.sampled_from(rules.BUTTON_TYPES), min_size=1, max_size=3))
def test_property_mixed_kinds_always_refused(kinds):
    message = OutgoingMessage(text="Pick", buttons=tuple(Button(type=k, text="ok") for k in kinds))
    assert ("mixed_button_types" in codes(message)) is (len(set(kinds)) > 1)


@given(
    elapsed=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=100)),
    sent=st.integers(min_value=0, max_value=constants.WINDOW_MAX_MESSAGES),
)
def test_property_window(elapsed, sent):
    conversation = open_conversation(last_inbound_at=NOW - elapsed, window_sent=sent)
    result = codes(OutgoingMessage(text="hi"), conversation)
    if elapsed >= dt.timedelta(hours=constants.WINDOW_HOURS):
        assert result == ["window_closed"]
    elif sent >= constants.WINDOW_MAX_MESSAGES:
        assert result == ["quota_exhausted"]
    else:
        assert result == []
