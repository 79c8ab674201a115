"""The pure verdicts shown by the channels page, the admin and the API (R3, R4, B6)."""

import datetime as dt

import pytest

from channels_tiktok import constants
from channels_tiktok.accounts.verdicts import permissions_verdict, region_verdict, token_state

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def test_all_scopes_granted_is_complete():
    verdict = permissions_verdict(constants.ALL_SCOPES)

    assert verdict.complete
    assert not verdict.blocking
    assert verdict.missing == ()


def test_missing_comment_scopes_name_the_features_and_do_not_block():
    verdict = permissions_verdict([s for s in constants.ALL_SCOPES if s not in constants.COMMENT_SCOPES])

    assert verdict.missing_scopes == constants.COMMENT_SCOPES
    assert not verdict.blocking
    assert [item.features for item in verdict.missing] == [
        "comment callbacks (tiktok_client_new_comment)",
        "replying to comments (tiktok_create_comment)",
    ]
    assert verdict.missing[0].fix == "Reconnect the account and allow “comment.list” on TikTok's consent page."


@pytest.mark.parametrize("scope", constants.MESSAGING_SCOPES)
def test_any_missing_messaging_scope_blocks(scope):
    verdict = permissions_verdict([s for s in constants.ALL_SCOPES if s != scope])

    assert verdict.blocking
    assert verdict.missing[0].blocking


def test_only_the_needed_scopes_count():
    verdict = permissions_verdict(constants.MESSAGING_SCOPES, needed=constants.MESSAGING_SCOPES)

    assert verdict.complete


@pytest.mark.parametrize(
    ("country", "region", "available"),
    [
        ("MX", constants.REGION_NORTH_AMERICA, True),
        ("br", constants.REGION_LATAM, True),
        ("US", constants.REGION_US, False),
        ("DE", constants.REGION_EEA_CH_UK, False),
        ("CH", constants.REGION_EEA_CH_UK, False),
        ("GB", constants.REGION_EEA_CH_UK, False),
        ("RU", None, None),
        ("", None, None),
    ],
)
def test_region_verdicts(country, region, available):
    verdict = region_verdict(country)

    assert (verdict.region, verdict.available) == (region, available)
    assert "cannot reach the bot" in verdict.users_note


def test_region_explanations_say_what_it_means():
    assert region_verdict("US").explanation == (
        "TikTok's messaging API is not available for accounts registered in United States (United States): "
        "the bot cannot receive or send direct messages with this account."
    )
    assert "not in TikTok's list of regions" in region_verdict("RU").explanation
    assert "not known" in region_verdict("").explanation


@pytest.mark.parametrize(
    ("status", "expires_in", "code"),
    [
        ("active", dt.timedelta(hours=20), "valid"),
        ("active", dt.timedelta(minutes=30), "expiring"),
        ("active", -dt.timedelta(minutes=1), "expired"),
        ("needs_reauth", dt.timedelta(hours=20), "needs_reauth"),
        ("disconnected", None, "disconnected"),
    ],
)
def test_token_states(status, expires_in, code):
    expires_at = NOW + expires_in if expires_in is not None else None

    state = token_state(status=status, access_expires_at=expires_at, refresh_expires_at=None, now=NOW)

    assert state.code == code
