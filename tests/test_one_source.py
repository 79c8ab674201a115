"""One source per rule: the window verdict (`rules.window_verdict`) and the account verdicts
(`accounts.verdicts.verdicts_of`) are what the send, the dry run, the API, the owner's page and the admin all show;
and no requirement id leaks into text a user reads."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from channels_tiktok import constants
from channels_tiktok.accounts.verdicts import account_verdicts, verdicts_of
from channels_tiktok.messaging import rules
from tests.factories import ConversationFactory, TikTokAccountFactory, UserFactory
from tests.outbound_fixtures import *  # noqa: F403

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
HOURS = dt.timedelta(hours=constants.WINDOW_HOURS)
REQUIREMENT_ID = re.compile(r"\b[RDB][0-9]{1,2}\b")


@pytest.mark.parametrize(
    ("last_inbound_at", "sent", "state", "left", "refusal"),
    [
        (None, 0, rules.WINDOW_NONE, 0, "no_conversation"),
        (NOW - dt.timedelta(hours=1), 0, rules.WINDOW_OPEN, constants.WINDOW_MAX_MESSAGES, None),
        (NOW - dt.timedelta(hours=1), 9, rules.WINDOW_OPEN, 1, None),
        (NOW - dt.timedelta(hours=1), constants.WINDOW_MAX_MESSAGES, rules.WINDOW_USED_UP, 0, "quota_exhausted"),
        (NOW - HOURS + dt.timedelta(seconds=1), 0, rules.WINDOW_OPEN, constants.WINDOW_MAX_MESSAGES, None),
        (NOW - HOURS, 0, rules.WINDOW_CLOSED, 0, "window_closed"),
        (NOW - HOURS, constants.WINDOW_MAX_MESSAGES, rules.WINDOW_CLOSED, 0, "window_closed"),
    ],
)
def test_window_verdict_states(last_inbound_at, sent, state, left, refusal):
    verdict = rules.window_verdict(last_inbound_at, sent, now=NOW)

    assert (verdict.state, verdict.messages_left, verdict.refusal) == (state, left, refusal)
    assert verdict.open is (state == rules.WINDOW_OPEN)
    assert verdict.expires_at == (last_inbound_at + HOURS if last_inbound_at else None)


@given(
    elapsed=st.one_of(st.none(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=100))),
    sent=st.integers(min_value=0, max_value=constants.WINDOW_MAX_MESSAGES),
)
def test_the_send_refuses_exactly_what_the_window_verdict_says(elapsed, sent):
    last_inbound_at = None if elapsed is None else NOW - elapsed
    facts = rules.ConversationFacts(conversation_id="0:1:c", last_inbound_at=last_inbound_at, window_sent=sent)

    errors = rules.check_conversation(rules.OutgoingMessage(text="hi"), facts, now=NOW)

    verdict = rules.window_verdict(last_inbound_at, sent, now=NOW)
    assert [e.code for e in errors] == ([verdict.refusal] if verdict.refusal else [])


@pytest.mark.django_db
def test_api_dry_run_and_admin_agree_on_each_window(api, account, admin_client):
    now = timezone.now()
    cases = {
        "open": ConversationFactory(account=account, client__display_name="Open", window_sent=3, last_inbound_at=now),
        "used_up": ConversationFactory(
            account=account,
            client__display_name="Used",
            window_sent=constants.WINDOW_MAX_MESSAGES,
            last_inbound_at=now - dt.timedelta(hours=1),
        ),
        "closed": ConversationFactory(
            account=account, client__display_name="Closed", last_inbound_at=now - HOURS - dt.timedelta(hours=1)
        ),
    }
    expected = {
        "open": (True, constants.WINDOW_MAX_MESSAGES - 3, [], "open: 7 messages left"),
        "used_up": (False, 0, ["quota_exhausted"], "quota used up: wait for the client to write"),
        "closed": (
            False,
            0,
            ["window_closed"],
            f"closed: {constants.WINDOW_HOURS} hours passed since the client wrote",
        ),
    }
    conversations_list = admin_client.get(reverse("admin:channels_tiktok_conversation_changelist")).content.decode()
    account_page = admin_client.get(
        reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk])
    ).content.decode()
    windows_panel = account_page[account_page.index('class="windows-panel"') :]

    for name, conversation in cases.items():
        is_open, left, refusals, text = expected[name]
        window = api.get(f"/api/v1/clients/{conversation.client_id}/").json()["window"]
        assert (window["open"], window["messages_left"]) == (is_open, left), name
        assert window["expires_at"] is not None
        dry_run = api.post(
            "/api/v1/messages/validate/",
            {"text": "hola", "account": account.pk, "client": conversation.client_id},
            format="json",
        ).json()
        assert [e["code"] for e in dry_run["errors"]] == refusals, name
        assert text in conversations_list, name
        row = re.search(rf"<tr>(?:(?!</tr>).)*{conversation.client.display_name}(?:(?!</tr>).)*</tr>", windows_panel)
        assert row is not None, name
        assert text in row.group(0), name


@pytest.mark.django_db
def test_owner_page_admin_and_api_show_the_same_account_verdicts(client, admin_client, api, project):
    without_comments = [s for s in constants.ALL_SCOPES if s not in constants.COMMENT_SCOPES]
    account = TikTokAccountFactory(channel__project=project, country="DE", scopes=without_comments)
    verdicts = verdicts_of(account)
    owner = UserFactory()
    project.owners.add(owner)
    client.force_login(owner)

    owner_page = client.get(reverse("channels"), {"project": project.pk}).content.decode()
    admin_page = admin_client.get(
        reverse("admin:channels_tiktok_tiktokaccount_change", args=[account.pk])
    ).content.decode()
    listed = api.get(f"/api/v1/tiktok/accounts/{account.pk}/").json()

    assert verdicts.region.available is False
    assert verdicts.needs_reconnect
    explanation = verdicts.region.explanation.replace("'", "&#x27;")
    assert explanation in owner_page
    assert explanation in admin_page
    assert verdicts.token.label in owner_page
    assert verdicts.token.label in admin_page
    assert verdicts.permissions_fix.replace("'", "&#x27;") in owner_page
    for item in verdicts.permissions.missing:
        assert item.fix.replace("'", "&#x27;") in admin_page
    assert listed["region_available"] is verdicts.region.available
    assert listed["region"] == verdicts.region.region
    assert [m["scope"] for m in listed["missing_scopes"]] == list(verdicts.permissions.missing_scopes)
    assert [m["fix"] for m in listed["missing_scopes"]] == [m.fix for m in verdicts.permissions.missing]


def test_account_verdicts_say_when_reconnecting_is_the_fix():
    def verdicts(status="active", granted=constants.ALL_SCOPES):
        return account_verdicts(
            status=status,
            granted=granted,
            country="MX",
            access_expires_at=NOW + dt.timedelta(hours=10),
            refresh_expires_at=NOW + dt.timedelta(days=300),
            now=NOW,
            needed=constants.ALL_SCOPES,
        )

    assert not verdicts().needs_reconnect
    assert verdicts().permissions_fix == ""
    assert verdicts(status="needs_reauth").needs_reconnect
    assert verdicts(status="needs_reauth").token.code == "needs_reauth"
    partial = verdicts(granted=constants.REQUIRED_SCOPES)
    assert partial.needs_reconnect
    assert "“comment.list”" in partial.permissions_fix


def test_no_requirement_id_in_any_translatable_text():
    """Every string a user reads goes through the catalogue; none of them may carry an id like R3, B6 or D3."""
    po = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    entries = [line for line in po.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    leaks = [line for line in entries if REQUIREMENT_ID.search(line)]
    assert leaks == []


def test_no_requirement_id_in_api_messages_or_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    from channels_tiktok.messaging import comment_replies, images, outbound

    messages = {
        **rules.CODES,
        **rules.WARNING_CODES,
        **images.CODES,
        **comment_replies.CODES,
        **outbound.CONFLICT_CODES,
        **outbound.UPSTREAM_CODES,
    }
    assert {code: text for code, text in messages.items() if REQUIREMENT_ID.search(str(text))} == {}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    texts = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("description", "summary", "title") and isinstance(value, str):
                    texts.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert texts
    assert [text for text in texts if REQUIREMENT_ID.search(text)] == []
