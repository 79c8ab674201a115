"""The OAuth state: single use, expiring, bound to the session, the user and the project."""

import pytest

from channels_tiktok import constants
from channels_tiktok.accounts import connect_state
from tests.connect_flow import callback_query


def _begin(session, *, user_id=1, project_id=10, now=1000.0):
    url = connect_state.begin(session, user_id=user_id, project_id=project_id, country="MX", now=now)
    return callback_query(url)["state"]


def test_a_state_is_taken_once():
    session = {}
    state = _begin(session)

    pending = connect_state.consume_state(session, state=state, user_id=1, now=1001.0)

    assert (pending.user_id, pending.project_id, pending.country) == (1, 10, "MX")
    with pytest.raises(connect_state.StateError) as raised:
        connect_state.consume_state(session, state=state, user_id=1, now=1002.0)
    assert raised.value.reason == connect_state.StateError.UNKNOWN


@pytest.mark.parametrize(
    ("state", "user_id", "now", "reason"),
    [
        (None, 1, 1001.0, connect_state.StateError.MISSING),
        ("forged", 1, 1001.0, connect_state.StateError.UNKNOWN),
        ("issued", 1, 1000.0 + constants.AUTH_CODE_TTL_SECONDS, connect_state.StateError.EXPIRED),
        ("issued", 2, 1001.0, connect_state.StateError.WRONG_USER),
    ],
)
def test_a_state_that_does_not_match_is_refused(state, user_id, now, reason):
    session = {}
    issued = _begin(session)

    with pytest.raises(connect_state.StateError) as raised:
        connect_state.consume_state(session, state=issued if state == "issued" else state, user_id=user_id, now=now)

    assert raised.value.reason == reason


def test_two_tabs_may_connect_and_old_states_are_pruned():
    session = {}
    first = _begin(session, now=1000.0)
    second = _begin(session, project_id=11, now=1001.0)
    for n in range(connect_state.MAX_PENDING):
        _begin(session, now=1002.0 + n)

    assert len(session[connect_state.SESSION_KEY]) == connect_state.MAX_PENDING
    assert first not in session[connect_state.SESSION_KEY]
    assert second not in session[connect_state.SESSION_KEY]
    late = _begin(session, now=1000.0 + constants.AUTH_CODE_TTL_SECONDS + 100)
    assert set(session[connect_state.SESSION_KEY]) == {late}  # the expired ones are gone
