"""TikTok's JSON as our databases can store it: a lone UTF-16 surrogate escape becomes U+FFFD, nothing else
changes."""

import json

import pytest

from channels_tiktok.tiktok import json_text


@pytest.mark.parametrize("as_bytes", [True, False])
def test_lone_surrogates_become_replacement_characters_wherever_they_are(as_bytes):
    document = json.dumps({"text": "cut \ud83d", "\udc00key": ["\ud800", {"n": 1, "ok": "\ud83d\ude00"}]})
    assert "\\ud83d\\ude00" in document  # the emoji written as a pair of escapes, as ensure_ascii writes it
    parsed = json_text.loads(document.encode() if as_bytes else document)
    assert parsed == {"text": "cut \ufffd", "\ufffdkey": ["\ufffd", {"n": 1, "ok": "\U0001f600"}]}
    json.dumps(parsed).encode("utf-8")  # nothing left that UTF-8 cannot encode


def test_escapes_outside_the_surrogate_range_and_raw_utf8_are_left_alone():
    document = '{"a": "\\u00e9\\ucafe", "b": "😀", "c": "\\\\ud800"}'  # the last is an escaped backslash, then text
    assert json_text.loads(document) == {"a": "é\ucafe", "b": "😀", "c": "\\ud800"}
    assert json_text.loads(document.encode()) == json.loads(document)


def test_not_json_raises_as_json_loads_does():
    with pytest.raises(json.JSONDecodeError):
        json_text.loads(b"{not json")
