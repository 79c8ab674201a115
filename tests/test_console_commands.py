"""Staff's management commands: replay the journal, re-deliver bot events, refresh tokens, rotate keys —
each with a progress bar on stderr and a summary on stdout."""

import datetime as dt
import io

import pytest
import responses
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from channels_tiktok.models import TikTokAccount, WebhookEvent
from clients.management.options import parse_since
from clients.models import BotEvent, Message
from clients.progress import Progress
from tests import webhook_cases as wc
from tests.factories import BotEventFactory, ProjectFactory, TikTokAccountFactory
from tests.sandbox import connected_account_tokens

pytestmark = pytest.mark.django_db

HOOK = "https://bot.example.com/hook"


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _ignored_rows(client, capture, count: int) -> list[WebhookEvent]:
    """Messages for an account not connected yet: journaled as ignored, replayable once it is."""
    rows = []
    for n in range(count):
        body = wc.with_content("im_receive_msg_text", message_id=f"replay-{n}")
        rows.append(wc.deliver(client, capture, body))
    assert {row.status for row in rows} == {WebhookEvent.Status.IGNORED}
    return rows


def test_replay_journal_by_status_processes_each_row_once(client, django_capture_on_commit_callbacks):
    rows = _ignored_rows(client, django_capture_on_commit_callbacks, 3)
    TikTokAccountFactory(business_id=wc.BUSINESS_ID)

    with django_capture_on_commit_callbacks(execute=True):
        out, err = run("replay_journal", "--status", "ignored")

    assert "Replayed 3 journal rows (processed: 3)." in out
    assert "3/3" in err  # the progress bar
    assert Message.objects.count() == 3
    assert {r.status for r in WebhookEvent.objects.filter(pk__in=[r.pk for r in rows])} == {"processed"}

    with django_capture_on_commit_callbacks(execute=True):
        out, _err = run("replay_journal", f"--account={wc.BUSINESS_ID}")
    assert "Replayed 3 journal rows (processed: 3)." in out
    assert Message.objects.count() == 3  # idempotent: nothing logged twice
    assert BotEvent.objects.count() == 3


def test_replay_journal_filters_by_event_account_and_since(client, django_capture_on_commit_callbacks):
    rows = _ignored_rows(client, django_capture_on_commit_callbacks, 2)
    WebhookEvent.objects.filter(pk=rows[0].pk).update(received_at=timezone.now() - dt.timedelta(days=3))
    account = TikTokAccountFactory(business_id=wc.BUSINESS_ID, username="taqueria")

    assert run("replay_journal", "--since", "24h", "--dry-run")[0] == "1 journal rows would be replayed.\n"
    assert run("replay_journal", "--event", "comment.update", "--dry-run")[0].startswith("0 ")
    assert run("replay_journal", "--account", "@taqueria", "--dry-run")[0].startswith("0 ")  # not linked yet
    assert run("replay_journal", "--account", str(account.pk), "--dry-run")[0].startswith("0 ")
    assert run("replay_journal", "--event", "im_receive_msg", "--dry-run")[0].startswith("2 ")

    with django_capture_on_commit_callbacks(execute=True):
        out, _err = run("replay_journal", "--since", "24h")
    assert "Replayed 1 journal rows" in out
    assert Message.objects.get().external_id == "replay-1"
    # Processing linked the row to the account: now it is found by account id and @username.
    assert run("replay_journal", "--account", "@taqueria", "--dry-run")[0].startswith("1 ")


def test_replay_journal_needs_a_filter():
    with pytest.raises(CommandError, match="at least one filter"):
        run("replay_journal")
    with pytest.raises(CommandError, match="neither a duration"):
        run("replay_journal", "--since", "yesterday")


def test_redeliver_events_pushes_failed_events_and_skips_pull_only(django_capture_on_commit_callbacks):
    project = ProjectFactory(callback_url=HOOK)
    failed = BotEventFactory.create_batch(2, project=project, status=BotEvent.DeliveryStatus.FAILED)
    delivered = BotEventFactory(project=project, status=BotEvent.DeliveryStatus.DELIVERED)
    pull_only = BotEventFactory(status=BotEvent.DeliveryStatus.FAILED)

    assert "2 bot events would be re-delivered (1 skipped" in run("redeliver_events", "--dry-run")[0]
    with responses.RequestsMock() as bot:
        bot.post(HOOK, status=200)
        with django_capture_on_commit_callbacks(execute=True):
            out, err = run("redeliver_events")
        assert len(bot.calls) == 2

    assert "Queued 2 bot events for re-delivery; 1 skipped: no callback URL." in out
    assert "2/2" in err
    for event in failed:
        event.refresh_from_db()
        assert event.status == BotEvent.DeliveryStatus.DELIVERED
    delivered.refresh_from_db()
    pull_only.refresh_from_db()
    assert delivered.attempts == 0
    assert pull_only.status == BotEvent.DeliveryStatus.FAILED


def test_refresh_tokens_renews_every_active_account_against_the_sandbox(sandbox_settings):
    issued = connected_account_tokens(sandbox_settings, account="sbx-acct-mx-001")
    account = TikTokAccountFactory(
        business_id="sbx-acct-mx-001", access_token=issued["access_token"], refresh_token=issued["refresh_token"]
    )
    lost = TikTokAccountFactory(status=TikTokAccount.Status.NEEDS_REAUTH)

    out, err = run("refresh_tokens")

    assert out == "Tokens: refreshed: 1.\n"
    assert "1/1" in err
    account.refresh_from_db()
    assert account.access_token != issued["access_token"]
    assert account.token_refreshed_at is not None
    assert issued["access_token"] not in out + err
    assert account.access_token not in out + err
    lost.refresh_from_db()
    assert lost.token_refreshed_at is None
    assert run("refresh_tokens", "--expiring-within", "1")[0] == "Tokens: no active account.\n"


def test_refresh_tokens_reports_an_account_tiktok_refuses(sandbox_settings):
    account = TikTokAccountFactory(business_id="sbx-acct-mx-001", refresh_token="rft.not-issued-by-the-sandbox")

    out, err = run("refresh_tokens", "--account", str(account.pk))

    assert out == "Tokens: needs_reauth: 1.\n"
    assert "needs reauthorisation" in err
    account.refresh_from_db()
    assert account.status == TikTokAccount.Status.NEEDS_REAUTH


def test_rotate_encryption_keys_shows_progress(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    accounts = TikTokAccountFactory.create_batch(3)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]

    out, err = run("rotate_encryption_keys")

    assert "channels_tiktok.TikTokAccount: 3 rows re-encrypted" in out
    assert "3/3" in err
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]
    assert TikTokAccount.objects.get(pk=accounts[0].pk).access_token == accounts[0].access_token


def test_progress_bar_redraws_in_place_on_a_terminal_and_sparsely_in_logs():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    bar = Progress("work", 4, stream=terminal)
    for _ in range(4):
        bar.advance()
    assert terminal.getvalue().count("\r") == 3
    assert terminal.getvalue().endswith("\n")
    assert "[" + "#" * 30 + "]" in terminal.getvalue()

    log = io.StringIO()
    bar = Progress("work", 2500, stream=log, every=1000)
    for _ in range(2500):
        bar.advance()
    assert log.getvalue().count("\n") == 3  # at 1000, 2000 and the end


def test_parse_since():
    now = timezone.now()
    assert parse_since("90m", now=now) == now - dt.timedelta(minutes=90)
    assert parse_since("7d", now=now) == now - dt.timedelta(days=7)
    assert parse_since("2025-01-02T03:04:05") == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_seed_volume_and_measure_admin_on_a_small_volume():
    out, err = run(
        "seed_volume",
        "--yes",
        "--messages",
        "300",
        "--journal",
        "200",
        "--bot-events",
        "50",
        "--accounts",
        "3",
        "--clients",
        "30",
    )
    assert "Seeded." in out
    assert "300/300" in err
    assert Message.objects.count() == 300
    assert WebhookEvent.objects.count() == 200
    assert BotEvent.objects.count() == 50

    out, _err = run("measure_admin", "--runs", "1")
    lines = out.splitlines()
    assert lines[0].split(": ", 1)[1].startswith("300 messages, 200 journal rows")
    pages = lines[2:-1]
    assert len(pages) == 42
    assert all(line.split()[-1] in {"ok", "SLOW"} for line in pages)
    assert any(line.startswith("accounts: search comment id") for line in pages)
    assert lines[-1].startswith("worst median:")
