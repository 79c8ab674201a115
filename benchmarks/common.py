"""What the benchmark's phases share: the plan, result rows, the seeded account, the journal's progress, the
sandbox that counts what it answered."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass

import psycopg

from channels_tiktok import constants
from channels_tiktok.sandbox.app import Sandbox
from scripts.stack import SANDBOX_APP_ID, SANDBOX_APP_SECRET, Stack

from . import load, payloads

BUSINESS_ID = "-000bench_business_account"
OUTBOUND_ACCOUNT = "sbx-acct-mx-001"
SIGNATURE_HEADER = "TikTok-Signature"
WEB_WORKERS = (os.cpu_count() or 1) + 1  # gunicorn's defaults (config/gunicorn.conf.py)
WEB_THREADS = 8
FLUSH_PROBE_RATE = 50  # the disk probe beside the fixed-rate phase: light next to the webhook's own commits
FLUSH_STALL_MS = 20
SLOW_MS = 50  # the fixed-rate phase's p99 target


@dataclass
class Row:
    part: str
    measure: str
    value: str
    target: str = ""
    verdict: str = ""


@dataclass
class Plan:
    """How much load each phase sends (the defaults; `--quick` is for a smoke run of the harness itself)."""

    # Six rounds: each round's wrk connections fall on gunicorn's workers anew (see `LOPSIDED_RETRIES`), and the
    # ratio moves with that spread; six samples of it weigh more than three longer rounds (96 s of load, not 60).
    intake_seconds: int = 8
    intake_rounds: int = 6
    intake_connections: int = 16
    fixed_rate: int = 200
    fixed_seconds: int = 10
    processing_events: int = 3000
    burst_events: int = 1000
    burst_copies: int = 10
    burst_clients: int = 16
    outbound_seconds: int = 60
    outbound_callers: int = 4
    comments: int = 600
    commenters: int = 60
    latency_rates: tuple[int, ...] = (100, 500)
    latency_seconds: int = 20
    round_trip_rate: int = 8

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            intake_seconds=3,
            intake_rounds=1,
            fixed_seconds=3,
            processing_events=300,
            burst_events=100,
            outbound_seconds=5,
            comments=60,
            latency_rates=(50,),
            latency_seconds=3,
        )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


SEED = """
import datetime as dt
from django.utils import timezone
from channels_tiktok import constants
from channels_tiktok.models import GrantedScope, TikTokAccount
from clients.models import Channel, Project
project = Project.objects.create(name="Benchmark")
channel = Channel.objects.create(project=project, name="benchmark")
account = TikTokAccount.objects.create(
    channel=channel, business_id=BUSINESS_ID, username="bench", display_name="Bench", country="MX",
    is_business_account=True, access_token="act.bench", refresh_token="rft.bench",
    access_token_expires_at=timezone.now() + dt.timedelta(days=1),
    refresh_token_expires_at=timezone.now() + dt.timedelta(days=365),
)
GrantedScope.objects.bulk_create([GrantedScope(account=account, scope=s) for s in constants.ALL_SCOPES])
result = {"project": project.pk, "account": account.pk}
"""

RESET_INBOUND = """
from config.celery_app import app
from channels_tiktok.models import WebhookEvent
from clients.models import BotEvent, Client, Message
from channels_tiktok.webhooks.intake import lanes
with app.connection_for_write() as conn:
    purged = app.control.purge(connection=conn)
lanes.release_all()  # the purged tasks held them
WebhookEvent.objects.all().delete()
BotEvent.objects.all().delete()
Message.objects.all().delete()
Client.objects.all().delete()
result = purged
"""

# Read straight from PostgreSQL over one connection: a Django process started for each poll (Stack.python) took
# half a core from the two workers being measured.
PROGRESS_SQL = """
SELECT
    (SELECT count(*) FROM channels_tiktok_webhookevent),
    (SELECT extract(epoch FROM min(processed_at)) FROM channels_tiktok_webhookevent),
    (SELECT extract(epoch FROM max(processed_at)) FROM channels_tiktok_webhookevent),
    (SELECT coalesce(json_object_agg(status, n), '{}') FROM (
        SELECT status, count(*) AS n FROM channels_tiktok_webhookevent GROUP BY status) AS statuses),
    (SELECT count(*) FROM clients_botevent),
    (SELECT count(*) FROM clients_message WHERE direction = 'in')
"""


def seed(stack: Stack) -> None:
    stack.python(f"BUSINESS_ID = {BUSINESS_ID!r}\n" + SEED)


def reset_inbound(stack: Stack) -> None:
    stack.python(RESET_INBOUND)


def progress(connection: psycopg.Connection) -> dict:
    journal, first, last, by_status, bot_events, messages = connection.execute(PROGRESS_SQL).fetchone()
    return {
        "journal": journal,
        "by_status": by_status,
        "first": float(first) if first is not None else None,
        "last": float(last) if last is not None else None,
        "bot_events": bot_events,
        "messages": messages,
    }


def wait_processed(stack: Stack, *, expected: int, timeout: float) -> dict:
    """Poll until `expected` journal rows are no longer pending (or time runs out)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        state = progress(connection)
        while time.monotonic() < deadline:
            done = state["journal"] - state["by_status"].get("pending", 0)
            if state["journal"] >= expected and done >= expected:
                break
            time.sleep(1)
            state = progress(connection)
    return state


def events(plan_count: int, *, users: int, run: int) -> list[load.SignedRequest]:
    return payloads.direct_messages(
        app_id=SANDBOX_APP_ID,
        secret=SANDBOX_APP_SECRET,
        business_id=BUSINESS_ID,
        count=plan_count,
        users=users,
        run=run,
    )


def start_inbound_workers(stack: Stack) -> None:
    # Two workers of one process each: the machine has two cores, and the figure is per two workers.
    stack.start(["worker-inbound#1", "worker-inbound#2"], timeout=90)


class CountingSandbox(Sandbox):
    """The sandbox, counting the API calls it answered by path, and those its per-app QPS limit refused (each
    answered with code 40100); it also notes when each text message the product sent arrived (`sent_texts`)."""

    refused = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: dict[str, int] = {}
        self._texts: dict[str, float] = {}

    def _api(self, request, path):
        arrived = time.time()
        with self.state.lock:
            self.calls[path] = self.calls.get(path, 0) + 1
        if path == constants.PATH_MESSAGE_SEND:
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                text = json.loads(request.body)["text"]["body"]
                with self.state.lock:
                    self._texts.setdefault(text, arrived)
        return super()._api(request, path)

    def sent_texts(self) -> dict[str, float]:
        """Each text message sent to the sandbox, and when (time.time()) its call arrived."""
        with self.state.lock:
            return dict(self._texts)

    def _admit(self, arrived: float | None = None) -> bool:
        admitted = super()._admit(arrived)
        if not admitted:
            with self.state.lock:
                self.refused += 1
        return admitted


WAIT_CLIENTS = """
from channels_tiktok.models import Conversation
rows = Conversation.objects.filter(account__business_id=BUSINESS).values_list("client_id", flat=True)
result = sorted(rows)
"""


def wait_for_clients(stack: Stack, *, business_id: str, expected: int, timeout: float = 120) -> list[int]:
    """The product's client ids of the account once its workers have processed `expected` users' first message."""
    deadline = time.monotonic() + timeout
    clients: list[int] = []
    while time.monotonic() < deadline:
        clients = stack.python(f"BUSINESS = {business_id!r}\n" + WAIT_CLIENTS)
        if len(clients) >= expected:
            return clients
        time.sleep(1)
    raise TimeoutError(f"only {len(clients)} of {expected} conversations were processed")
