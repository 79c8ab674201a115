"""Webhook intake: the receiver against a bare view and its peers under wrk, then a fixed rate over the disk's floor."""

from __future__ import annotations

import concurrent.futures
import os
import statistics
import threading
from dataclasses import dataclass

import psycopg

from scripts.stack import Stack

from . import load, payloads, probes, processes
from .common import (
    FLUSH_PROBE_RATE,
    FLUSH_STALL_MS,
    SIGNATURE_HEADER,
    SLOW_MS,
    Plan,
    Row,
    events,
    reset_inbound,
    verdict,
)


@dataclass
class CpuUse:
    """CPU seconds that gunicorn's workers and PostgreSQL's processes used during one wrk run."""

    web: float
    database: float


@dataclass
class Measured:
    result: load.LoadResult
    spread: list[int] | None
    cpu: CpuUse


# The sides of each round: the product's receiver, the bare view (a ceiling: it stores nothing and checks nothing),
# the naive durable receiver and django-anymail's (benchmarks/peers.py). Each side gets events of its own, so no
# side's rows are the duplicates of another's.
SIDES = {
    "webhook": "/webhooks/tiktok/",
    "bare": "/bench/bare/",
    "naive": "/bench/naive/",
    "anymail": "/bench/anymail/",
}
LABELS = {
    "webhook": "POST /webhooks/tiktok/ (the product)",
    "bare": "bare Django view (no signature, no database)",
    "naive": "naive durable receiver (verify, parse, Model.objects.create in autocommit)",
    "anymail": "django-anymail's Mailgun tracking webhook (verify, parse, store nothing)",
}


@dataclass
class IntakeRound:
    sides: dict[str, Measured]

    def ratio(self, other: str) -> float:
        base = self.sides[other].result.rps
        return self.sides["webhook"].result.rps / base if base else 0.0


def side_requests(side: str, *, count: int, run: int) -> tuple[list[load.SignedRequest], str]:
    """A side's requests for one round and the header its signature travels in ("" for anymail: in the body)."""
    if side == "anymail":
        return payloads.mailgun_events(signing_key=payloads.MAILGUN_SIGNING_KEY, count=count, run=run), ""
    return events(count, users=500, run=run), SIGNATURE_HEADER


def wrk_with_spread(
    stack: Stack, url: str, requests: list[load.SignedRequest], plan: Plan, *, signature_header: str
) -> Measured:
    """A wrk run, how its connections fell on gunicorn's workers (sampled halfway through), and the CPU that the
    workers and PostgreSQL used meanwhile."""
    spread: dict[str, list[int] | None] = {}
    workers = processes.child_pids(stack.processes["web"].popen.pid)

    def sample() -> None:
        spread["counts"] = processes.connections_per_process(stack.port, workers)

    timer = threading.Timer(plan.intake_seconds / 2, sample)
    web_before = processes.cpu_seconds(workers)
    database_before = processes.cpu_seconds(processes.pids_named("postgres"))
    timer.start()
    try:
        result = load.run_wrk(
            url,
            requests,
            seconds=plan.intake_seconds,
            connections=plan.intake_connections,
            signature_header=signature_header,
        )
    finally:
        timer.cancel()
    cpu = CpuUse(
        web=processes.cpu_used(web_before, processes.cpu_seconds(workers)),
        database=processes.cpu_used(database_before, processes.cpu_seconds(processes.pids_named("postgres"))),
    )
    return Measured(result, spread.get("counts"), cpu)


def same_device_text(stack: Stack) -> str:
    """Whether the flush probe's directory is on the device holding PostgreSQL's data (readable as superuser)."""
    try:
        with psycopg.connect(stack.database_url, autocommit=True) as connection:
            data_directory = connection.execute("SHOW data_directory").fetchone()[0]
        same = os.stat(data_directory).st_dev == os.stat(stack.run_dir).st_dev
    except (psycopg.Error, OSError):
        return "in the run directory; PostgreSQL's data directory not readable here"
    return f"in the run directory, {'the same device as' if same else 'NOT the device of'} PostgreSQL's data"


def cpu_text(uses: list[CpuUse], requests: int) -> str:
    if not requests:
        return "?"
    web, database = sum(u.web for u in uses), sum(u.database for u in uses)
    return f"{1000 * web / requests:.2f} + {1000 * database / requests:.2f}"


def pooled(results: list[load.LoadResult]) -> load.LoadResult:
    """Every round's requests over every round's seconds; the median p50 and the worst p99 of the rounds."""
    return load.LoadResult(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        errors=sum(r.errors for r in results),
        p50_ms=statistics.median(r.p50_ms or 0.0 for r in results),
        p99_ms=max(r.p99_ms or 0.0 for r in results),
    )


def fixed_rate_over_the_floor(
    stack: Stack, url: str, plan: Plan
) -> tuple[load.LoadResult, load.LoadResult, load.LoadResult]:
    """The webhook at the plan's fixed rate, with what a durable write costs on this machine at that moment, the
    floor beneath the webhook's latency: the same rate on PostgreSQL alone just before, and the disk alone (a
    lighter probe, in a thread) during the phase. Returns (webhook, PostgreSQL alone, disk alone)."""
    commits = probes.run_commit_probe(stack.database_url, rate=plan.fixed_rate, seconds=plan.fixed_seconds)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        flush = pool.submit(
            probes.run_flush_probe, stack.run_dir, rate=FLUSH_PROBE_RATE, seconds=plan.fixed_seconds + 0.5
        )
        fixed = load.run_fixed_rate(
            url,
            events(plan.fixed_rate * plan.fixed_seconds, users=500, run=2),
            rate=plan.fixed_rate,
            seconds=plan.fixed_seconds,
            signature_header=SIGNATURE_HEADER,
        )
        return fixed, commits, flush.result()


# wrk opens its connections at once and keeps them; whichever gunicorn worker wakes first may accept them all. A
# side served by one worker of three runs on one process, one core, whatever the configuration says: the bare view
# measured so ran at the webhook's rate (a round of 1.13 x among rounds of 0.43-0.56 x). Such a round says nothing
# about the configuration, and it favours whichever side it falls on, so it is measured again (the count is
# reported); uneven spreads such as 11/4/1 are kept, as production's workers accept the same way.
LOPSIDED_RETRIES = 2


def intake_round(stack: Stack, plan: Plan, *, number: int, run: int) -> IntakeRound:
    # More distinct events than wrk can send in the time, and new runs for each round measured, a round measured
    # again included: every request is a new journal row. Signed per round (the signature's timestamp must stay
    # fresh); the sides take turns at going first.
    names = list(SIDES)
    order = names[number % len(names) :] + names[: number % len(names)]
    measured = {}
    for index, side in enumerate(order):
        requests, header = side_requests(side, count=plan.intake_seconds * 4000, run=run * 10 + index)
        measured[side] = wrk_with_spread(
            stack, f"{stack.base_url}{SIDES[side]}", requests, plan, signature_header=header
        )
    return IntakeRound(sides={side: measured[side] for side in names})


def bench_intake(stack: Stack, plan: Plan) -> list[Row]:
    # Every side warms before the first round: a web process's first deliveries open its journal connection,
    # prepare the INSERT and connect to Redis and the broker, a one-off cost the bare view has no part of.
    for index, (side, path) in enumerate(SIDES.items()):
        requests, header = side_requests(side, count=2000, run=1 + index)
        load.run_wrk(
            f"{stack.base_url}{path}", requests, seconds=2, connections=plan.intake_connections, signature_header=header
        )
    rounds: list[IntakeRound] = []
    redone = 0
    for number in range(plan.intake_rounds):
        for attempt in range(1 + LOPSIDED_RETRIES):
            run = 10 + len(rounds) + redone  # one per round measured: 10, 11, …
            measured = intake_round(stack, plan, number=number, run=run)
            spreads = [m.spread for m in measured.sides.values()]
            if attempt == LOPSIDED_RETRIES or not any(load.lopsided(spread) for spread in spreads):
                break
            redone += 1
        rounds.append(measured)
    reset_inbound(stack)
    hook_url = f"{stack.base_url}{SIDES['webhook']}"
    fixed, commits, flush = fixed_rate_over_the_floor(stack, hook_url, plan)
    slow = probes.spans_over(fixed, SLOW_MS)
    stalled = probes.overlapping(slow, probes.spans_over(flush, FLUSH_STALL_MS))
    reset_inbound(stack)
    pooled_by_side = {side: pooled([r.sides[side].result for r in rounds]) for side in SIDES}
    hook = pooled_by_side["webhook"]
    conn = f"wrk, {plan.intake_connections} connections, {plan.intake_rounds} x {plan.intake_seconds} s"
    rows = []
    for side, result in pooled_by_side.items():
        rows.append(
            Row(
                "intake",
                f"{LABELS[side]}: req/s; p50 / p99 ms ({conn})",
                f"{result.rps:,.0f}; {result.p50_ms:.1f} / {result.p99_ms:.1f}",
            )
        )

    def ratio(other: str) -> float:
        base = pooled_by_side[other].rps
        return hook.rps / base if base else 0.0

    rows += [
        Row(
            "intake",
            "the product / the naive durable receiver (all rounds)",
            f"{ratio('naive'):.2f} x",
            "≥ 1.5 x",
            verdict(ratio("naive") >= 1.5),
        ),
        Row("intake", "the product / django-anymail (stores nothing; all rounds)", f"{ratio('anymail'):.2f} x"),
        Row("intake", "the product / the bare view (a ceiling, not a peer; all rounds)", f"{ratio('bare'):.2f} x"),
        Row(
            "intake",
            "by round: product / naive, product / anymail, product / bare",
            ", ".join(f"{r.ratio('naive'):.2f} {r.ratio('anymail'):.2f} {r.ratio('bare'):.2f}" for r in rounds),
        ),
        Row("intake", "rounds measured again (all of one side's connections on one gunicorn worker)", f"{redone}"),
        Row(
            "intake",
            "CPU ms per request, gunicorn's workers + PostgreSQL (all rounds): " + " | ".join(SIDES),
            " | ".join(cpu_text([r.sides[side].cpu for r in rounds], pooled_by_side[side].requests) for side in SIDES),
        ),
        Row(
            "intake",
            f"webhook at a fixed {plan.fixed_rate} req/s, p50 / p99 / max ms ({fixed.requests} requests)",
            f"{fixed.p50_ms:.1f} / {fixed.p99_ms:.1f} / {fixed.max_ms:.0f}",
            "p99 < 50 ms",
            verdict(fixed.p99_ms < 50 and fixed.errors == 0),
        ),
        Row(
            "intake",
            f"PostgreSQL alone just before: one connection committing a 1.2 KB row {plan.fixed_rate} times a "
            f"second, p50 / p99 / max ms ({commits.requests} commits)",
            f"{commits.p50_ms:.1f} / {commits.p99_ms:.1f} / {commits.max_ms:.0f}",
        ),
        Row(
            "intake",
            f"the disk alone during the fixed rate: an 8 KB block written and flushed (fdatasync) {FLUSH_PROBE_RATE} "
            f"times a second, p50 / p99 / max ms; flushes over {FLUSH_STALL_MS} ms ({same_device_text(stack)})",
            f"{flush.p50_ms:.1f} / {flush.p99_ms:.1f} / {flush.max_ms:.0f}; "
            f"{len(probes.spans_over(flush, FLUSH_STALL_MS))} of {flush.requests}",
        ),
        Row(
            "intake",
            f"deliveries over {SLOW_MS} ms at the fixed rate / of them, while a flush of the disk took over "
            f"{FLUSH_STALL_MS} ms",
            f"{len(slow)} / {stalled}",
        ),
        Row(
            "intake",
            "non-200 answers (" + " / ".join(SIDES) + " / fixed rate)",
            " / ".join(str(pooled_by_side[side].errors) for side in SIDES) + f" / {fixed.errors}",
            "0",
            verdict(all(pooled_by_side[side].errors == 0 for side in SIDES) and fixed.errors == 0),
        ),
    ]
    return rows
