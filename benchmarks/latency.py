"""End-to-end latency, the figure a customer feels, with the production process types running.

- in: a user's direct message leaves TikTok (a signed delivery, sent at a fixed rate) → webhook → journal → worker
  → the bot's push endpoint has it (`benchmarks/bot.py`, which answers at once);
- round trip: a user writes in the sandbox → … → the bot has it → the bot's reply through the send API → the
  sandbox (TikTok) has it, the bot's own time taken out.

Each figure is p50 / p99 / max over every message of the phase, and the stages' medians say where the time goes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from scripts.processes import ROOT, free_port, wait_for_port
from scripts.seed import seed_connected_account
from scripts.stack import SANDBOX_APP_ID, SANDBOX_APP_SECRET, Stack

from . import load, payloads, processes
from .common import SIGNATURE_HEADER, CountingSandbox, Plan, Row, verdict

ACCOUNT = "sbx-acct-br-002"
BOT_SECRET = "bench-bot-secret"  # noqa: S105 - the bench bot checks nothing
TARGETS_MS = {100: 100, 500: 250}  # DM → bot p99 at that many DMs a second
ROUND_TRIP_TARGET_MS = 150
JOURNAL_SQL = """
SELECT dedupe_key, extract(epoch FROM received_at), extract(epoch FROM processed_at)
FROM channels_tiktok_webhookevent WHERE business_id = %s AND event = 'im_receive_msg'
"""


@dataclass
class Spread:
    values_ms: list[float]

    def text(self) -> str:
        if not self.values_ms:
            return "none"
        ordered = sorted(self.values_ms)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return f"{statistics.median(ordered):.0f} / {p99:.0f} / {ordered[-1]:.0f}"

    @property
    def p99(self) -> float:
        ordered = sorted(self.values_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("inf")


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_lines(path: Path, predicate, *, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    records = read_log(path)
    while not predicate(records) and time.monotonic() < deadline:
        time.sleep(0.5)
        records = read_log(path)
    return records


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else 0.0


def stages_text(stages: dict[str, list[float]]) -> str:
    medians = {name: median_ms(values) for name, values in stages.items()}
    total = sum(medians.values()) or 1.0
    return ", ".join(f"{name} {ms:.1f} ms ({100 * ms / total:.0f} %)" for name, ms in medians.items())


def process_groups(stack: Stack, bot_pid: int) -> dict[str, list[int]]:
    """The pids of each kind of process on the machine: a Procfile type with its children (gunicorn's workers,
    Celery's pool), PostgreSQL's and Redis's servers, and the load generator with the bench bot."""
    groups: dict[str, list[int]] = {}
    for name, process in stack.processes.items():
        if process.popen is None or name in ("postgres", "redis"):
            continue
        kind = name.partition("#")[0]  # worker-inbound#1 and #2 together
        groups.setdefault(kind, []).extend([process.popen.pid, *processes.child_pids(process.popen.pid)])
    groups["PostgreSQL"] = processes.pids_named("postgres")
    groups["Redis"] = processes.pids_named("redis-server")
    groups["load generator and bot"] = [os.getpid(), bot_pid]
    return groups


def cpu_text(before: dict[str, dict[int, float]], groups: dict[str, list[int]], *, count: int, rate: int) -> str:
    """CPU milliseconds per message of each kind of process, against what the machine's cores offer per message
    at that rate: past that total, messages queue."""
    used = {kind: processes.cpu_used(before[kind], processes.cpu_seconds(pids)) for kind, pids in groups.items()}
    per_message = {kind: 1000 * seconds / count for kind, seconds in used.items()}
    parts = ", ".join(f"{kind} {ms:.1f}" for kind, ms in per_message.items())
    available = 1000 * (os.cpu_count() or 1) / rate
    return f"{parts}; total {sum(per_message.values()):.1f} of the {available:.0f} ms the cores offer per message"


def bench_in(stack: Stack, plan: Plan, *, rate: int, business_id: str, log: Path, run: int, bot_pid: int) -> list[Row]:
    count = rate * plan.latency_seconds
    signed = payloads.direct_messages(
        app_id=SANDBOX_APP_ID,
        secret=SANDBOX_APP_SECRET,
        business_id=business_id,
        count=count,
        users=max(count // 5, 1),
        run=run,
    )
    index_of = {payloads.message_id(run, number): number for number in range(count)}
    groups = process_groups(stack, bot_pid)
    cpu_before = {kind: processes.cpu_seconds(pids) for kind, pids in groups.items()}
    sent = load.run_fixed_rate(
        f"{stack.base_url}/webhooks/tiktok/",
        signed,
        rate=rate,
        seconds=plan.latency_seconds,
        signature_header=SIGNATURE_HEADER,
        clients=32,
    )

    def ours(records: list[dict]) -> list[dict]:
        return [r for r in records if r.get("type") == "client.message" and r.get("message_id") in index_of]

    records = ours(wait_for_lines(log, lambda r: len(ours(r)) >= count, timeout=120))
    cpu = cpu_text(cpu_before, groups, count=count, rate=rate)
    due = {index_of[r["message_id"]]: sent.due_wall + index_of[r["message_id"]] / rate for r in records}
    latencies = Spread([(r["arrived"] - due[index_of[r["message_id"]]]) * 1000 for r in records])
    stages: dict[str, list[float]] = {"to the journal": [], "journal → processed": [], "processed → bot": []}
    arrived = {f"im_receive_msg:{r['message_id']}": r["arrived"] for r in records}
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        for key, received, processed in connection.execute(JOURNAL_SQL, (business_id,)):
            message_id = key.partition(":")[2]
            if key not in arrived or message_id not in index_of or processed is None:
                continue
            stages["to the journal"].append(float(received) - due[index_of[message_id]])
            stages["journal → processed"].append(float(processed) - float(received))
            stages["processed → bot"].append(arrived[key] - float(processed))
    target = TARGETS_MS.get(rate)
    return [
        Row(
            "latency",
            f"in: DM → the bot has it, p50 / p99 / max ms ({rate}/s for {plan.latency_seconds} s; "
            f"{len(records)} of {count} arrived, {sent.errors} non-200)",
            latencies.text(),
            f"p99 ≤ {target} ms" if target else "",
            verdict(latencies.p99 <= target and len(records) == count) if target else "",
        ),
        Row("latency", f"in at {rate}/s: median of each stage (share)", stages_text(stages)),
        Row("latency", f"in at {rate}/s: CPU ms per message, by process", cpu),
    ]


def bench_round_trip(plan: Plan, sandbox: CountingSandbox, *, log: Path) -> list[Row]:
    control = sandbox.control
    users = [
        control.create_user(username=f"latency.user{number}", country="BR")["unique_identifier"]
        for number in range(plan.round_trip_rate * 3)
    ]
    count = plan.round_trip_rate * plan.latency_seconds
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for number in range(count):
        delay = start + number / plan.round_trip_rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        marker = f"{number:05d}"
        sent[marker] = time.time()
        control.user_writes(account=ACCOUNT, user=users[number % len(users)], text=f"rt {marker}")

    def replied(records: list[dict]) -> int:
        return sum(1 for r in records if r.get("reply") in sent)

    records = wait_for_lines(log, lambda r: replied(r) >= count, timeout=120)
    time.sleep(1)  # the last replies' calls to the sandbox
    pushes = {
        r["text"][3:]: r for r in records if r.get("type") == "client.message" and r.get("text", "").startswith("rt ")
    }
    replies = {r["reply"]: r for r in records if r.get("reply") in sent}
    received = sandbox.sent_texts()
    trips, statuses = [], {}
    stages: dict[str, list[float]] = {"DM → bot": [], "reply sent → TikTok has it": []}
    for marker, reply in replies.items():
        statuses[reply["status"]] = statuses.get(reply["status"], 0) + 1
        push, at_tiktok = pushes.get(marker), received.get(f"re {marker}")
        if push is None or at_tiktok is None:
            continue
        bot_time = reply["started"] - push["arrived"]
        trips.append((at_tiktok - sent[marker] - bot_time) * 1000)
        stages["DM → bot"].append(push["arrived"] - sent[marker])
        stages["reply sent → TikTok has it"].append(at_tiktok - reply["started"])
    spread = Spread(trips)
    return [
        Row(
            "latency",
            f"round trip: DM → bot → reply → TikTok has it, bot's own time excluded, p50 / p99 / max ms "
            f"({plan.round_trip_rate} conversations/s for {plan.latency_seconds} s; {len(trips)} of {count}; "
            f"send API answers {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))})",
            spread.text(),
            f"p99 ≤ {ROUND_TRIP_TARGET_MS} ms",
            verdict(spread.p99 <= ROUND_TRIP_TARGET_MS and len(trips) == count),
        ),
        Row("latency", "round trip: median of each stage (share)", stages_text(stages)),
    ]


def bench_latency(stack: Stack, plan: Plan, sandbox: CountingSandbox) -> list[Row]:
    control = sandbox.control
    token = control.issue_token(account=ACCOUNT)
    bot_port = free_port()
    log = stack.run_dir / "latency-bot.jsonl"
    log.unlink(missing_ok=True)
    seeded = seed_connected_account(
        stack,
        token=token,
        project="Latency benchmark",
        username="loja_sandbox",
        country="BR",
        callback_url=f"http://127.0.0.1:{bot_port}/bot/events/",
        callback_secret=BOT_SECRET,
    )
    control.subscribe(callback_url=f"{stack.base_url}/webhooks/tiktok/")
    bot = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "benchmarks.bot",
            "--port",
            str(bot_port),
            "--log",
            str(log),
            "--reply-to",
            stack.base_url,
            "--api-key",
            seeded["api_key"],
        ],
        cwd=ROOT,
    )
    try:
        wait_for_port(bot_port, timeout=30)
        rows: list[Row] = []
        for number, rate in enumerate(plan.latency_rates):
            rows += bench_in(
                stack, plan, rate=rate, business_id=seeded["business_id"], log=log, run=70 + number, bot_pid=bot.pid
            )
        rows += bench_round_trip(plan, sandbox, log=log)
        return rows
    finally:
        bot.terminate()
        bot.wait(timeout=10)
