"""The benchmark (B10): `make bench` or `python -m benchmarks.run`. Prints a table, writes benchmarks/RESULTS.md.

It starts the production process types (Procfile) on loopback with `config.settings.bench` (production plus a
bare view), against PostgreSQL (`tiktok_bench` database, recreated) and Redis (db 6, emptied), and measures:

- webhook intake: wrk against `POST /webhooks/tiktok/` with valid signed events and against the bare view, same
  gunicorn, same run; then a fixed 200 requests per second for the p99;
- processing: events per second from journal row to bot event with two inbound Celery workers, and the
  database queries of processing one event of each type;
- duplicate burst: 10 000 deliveries of 1 000 events from 16 concurrent clients, then count what was processed;
- outbound: sends per second through the rate limiter against the sandbox at its 10 per second app limit;
- comments: a viral video's burst of new comments, each read from the sandbox (comment/list) and told to the bot:
  comments per second and calls to TikTok per comment.

All load goes to 127.0.0.1, each phase is bounded in count and time, and the stack is stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from channels_tiktok.sandbox import Config, SandboxServer
from scripts.stack import ROOT, SANDBOX_APP_ID, SANDBOX_APP_SECRET, Stack

from . import load
from .common import WEB_THREADS, WEB_WORKERS, CountingSandbox, Plan, Row, seed, start_inbound_workers
from .intake import bench_intake
from .latency import bench_latency
from .outbound import bench_outbound
from .processing import bench_burst, bench_comments, bench_processing, bench_queries

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def versions() -> str:
    def version(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    return "; ".join(
        [
            version(["wrk", "--version"]).split(" [")[0],
            version(["psql", "--version"]),
            version(["redis-server", "--version"]).split(" sha=")[0],
        ]
    )


def render(rows: list[Row], *, started: dt.datetime, seconds: float, plan: Plan) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `make bench` (`python -m benchmarks.run`) on {started:%Y-%m-%d %H:%M} UTC in {seconds:.0f} s.",
        f"Machine: {machine()}. {versions()}.",
        "Everything ran on this one machine: the load generator, "
        f"gunicorn ({WEB_WORKERS} workers x {WEB_THREADS} threads, access log and worker recycling off), "
        "two Celery workers (one process each), PostgreSQL, Redis and the sandbox share its cores.",
        "",
        "| part | measure | value | target | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r.part} | {r.measure} | {r.value} | {r.target} | {r.verdict} |" for r in rows]
    lines += [
        "",
        "Queries per event type: one event processed in-process against the same database, first from a new "
        "client, then from a known one (a read receipt's two: in the conversation the text message opened); the "
        "verdict column says whether the budget is met, and the journal row's outcome. Every statement counts but "
        "a transaction's BEGIN and COMMIT. "
        "The comments, images and videos are the sandbox's deliveries to an account it issued a token to: each "
        "comment's text and each media's download URL are read from it as in production.",
        "",
        f"Plan: `{plan}`",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run that checks the harness itself")
    parser.add_argument(
        "--parts",
        default="intake,processing,queries,burst,outbound,comments,latency",
        help="comma-separated subset of: intake, processing, queries, burst, outbound, comments, latency",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the Markdown table")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    plan = Plan.quick() if args.quick else Plan()
    if not load.wrk_available() and "intake" in parts:
        print("wrk is not installed: `make wrk` (Debian's package) or `apt-get install wrk`", file=sys.stderr)  # noqa: T201
        return 2

    started = dt.datetime.now(tz=dt.UTC)
    clock = time.monotonic()
    stack = Stack(
        run_dir=ROOT / "test-artifacts" / "bench",
        settings_module="config.settings.bench",
        # Overridable so two benchmark runs on one machine do not share (and recreate) each other's stores.
        database_url=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tiktok_bench"),
        redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"),
        extra_env={
            # gunicorn as in production (config/gunicorn.conf.py), said explicitly (the stack runs two workers by
            # default), except the access log and worker recycling: a worker restarted inside a 10-second phase
            # would weigh on whichever side of the comparison it fell in.
            "WEB_CONCURRENCY": str(WEB_WORKERS),
            "GUNICORN_THREADS": str(WEB_THREADS),
            "GUNICORN_ACCESS_LOG": "0",
            "GUNICORN_MAX_REQUESTS": "0",
            "LOG_LEVEL": "WARNING",
            "CELERY_INBOUND_CONCURRENCY": "1",
            "DATABASE_POOL_MAX": "4",
        },
    )
    # The sandbox runs in this process so the benchmark can count the calls it refused; it is tiny at 10/s.
    sandbox = CountingSandbox(Config(app_id=SANDBOX_APP_ID, app_secrets=(SANDBOX_APP_SECRET,), rate_limit_qps=10))
    server = SandboxServer(sandbox).start()
    stack.sandbox_port = server.port
    rows: list[Row] = []
    print("preparing the stack (database, migrations, static files)…", file=sys.stderr)  # noqa: T201
    stack.prepare(fresh=True)
    with stack:
        seed(stack)
        stack.start(["web"])
        if "intake" in parts:
            print("webhook intake…", file=sys.stderr)  # noqa: T201
            rows += bench_intake(stack, plan)
        if "queries" in parts:
            print("queries per event type…", file=sys.stderr)  # noqa: T201
            rows += bench_queries(stack, sandbox)
        if "processing" in parts:
            print("processing…", file=sys.stderr)  # noqa: T201
            rows += bench_processing(stack, plan)
        if "burst" in parts:
            print("duplicate burst…", file=sys.stderr)  # noqa: T201
            start_inbound_workers(stack)
            rows += bench_burst(stack, plan)
        if "outbound" in parts:
            print("outbound…", file=sys.stderr)  # noqa: T201
            stack.start(["worker-inbound#1", "worker-outbound"], timeout=90)
            rows += bench_outbound(stack, plan, sandbox)
        if "comments" in parts:
            print("comments…", file=sys.stderr)  # noqa: T201
            start_inbound_workers(stack)
            rows += bench_comments(stack, plan, sandbox)
        if "latency" in parts:
            print("end-to-end latency…", file=sys.stderr)  # noqa: T201
            stack.start(["worker-inbound#1", "worker-inbound#2", "worker-outbound"], timeout=90)
            rows += bench_latency(stack, plan, sandbox)
    server.stop()
    text = render(rows, started=started, seconds=time.monotonic() - clock, plan=plan)
    print(text)  # noqa: T201
    args.output.write_text(text)
    print(f"written to {args.output}", file=sys.stderr)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
