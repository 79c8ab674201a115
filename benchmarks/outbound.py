"""Outbound: sends per second through the product's rate limiter against the sandbox's 10 calls per second."""

from __future__ import annotations

from scripts.seed import seed_connected_account
from scripts.stack import Stack

from . import load
from .common import OUTBOUND_ACCOUNT, CountingSandbox, Plan, Row, verdict, wait_for_clients


def bench_outbound(stack: Stack, plan: Plan, sandbox: CountingSandbox) -> list[Row]:
    """Sends through the product's API for `outbound_seconds` at full speed; the sandbox limits the app to 10/s."""
    control = sandbox.control
    token = control.issue_token(account=OUTBOUND_ACCOUNT)
    seeded = seed_connected_account(stack, token=token, project="Outbound benchmark")
    control.subscribe(callback_url=f"{stack.base_url}/webhooks/tiktok/")
    # Enough conversations, each opened by a user message (10 sends per window), for the whole run.
    users = []
    for number in range(plan.outbound_seconds * 12 // 10 + 5):
        user = control.create_user(username=f"bench.user{number}", country="MX")["unique_identifier"]
        control.user_writes(account=OUTBOUND_ACCOUNT, user=user, text=f"hello {number}")
        users.append(user)
    clients = wait_for_clients(stack, business_id=seeded["business_id"], expected=len(users))
    slots = [client for _round in range(10) for client in clients]
    refused_before = sandbox.refused
    result = load.run_api_sends(
        stack.base_url,
        slots,
        api_key=seeded["api_key"],
        seconds=plan.outbound_seconds,
        clients=plan.outbound_callers,
    )
    sent = control.sent_messages(account=OUTBOUND_ACCOUNT)
    api_sent = [m for m in sent if m.get("source") in (None, "API")]
    stamps = sorted(m["timestamp_ms"] for m in api_sent)
    tiktok_rate = (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1000) if len(stamps) > 1 else 0.0
    refused = sandbox.refused - refused_before
    ok = result.status_counts.get(201, 0)
    rate = ok / result.seconds if result.seconds else 0.0
    return [
        Row(
            "outbound",
            f"sends/s through the rate limiter, {plan.outbound_callers} concurrent API callers, "
            f"{plan.outbound_seconds} s (201 answers)",
            f"{rate:.2f}",
            "≥ 9.8/s",
            verdict(rate >= 9.8),
        ),
        Row("outbound", "sends/s as TikTok (the sandbox) received them", f"{tiktok_rate:.2f}", "≤ 10/s", ""),
        Row(
            "outbound",
            "calls refused with 40100 by the sandbox's 10/s app limit",
            str(refused),
            "0",
            verdict(refused == 0),
        ),
        Row(
            "outbound",
            "API answers",
            ", ".join(f"{status}: {count}" for status, count in sorted(result.status_counts.items())),
            "201 only",
            verdict(set(result.status_counts) == {201}),
        ),
    ]
