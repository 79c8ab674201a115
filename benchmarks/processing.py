"""Processing: events per second from journal row to bot event, queries per event type, the duplicate burst and a
viral video's comments."""

from __future__ import annotations

import json
import random
import time

import psycopg

from channels_tiktok import constants
from scripts.seed import seed_connected_account
from scripts.stack import Stack

from . import load, payloads
from .common import (
    BUSINESS_ID,
    SIGNATURE_HEADER,
    CountingSandbox,
    Plan,
    Row,
    events,
    reset_inbound,
    start_inbound_workers,
    verdict,
    wait_processed,
)


def bench_processing(stack: Stack, plan: Plan) -> list[Row]:
    signed = events(plan.processing_events, users=max(plan.processing_events // 10, 1), run=3)
    posted = load.run_burst(f"{stack.base_url}/webhooks/tiktok/", signed, clients=16, signature_header=SIGNATURE_HEADER)
    start_inbound_workers(stack)
    state = wait_processed(stack, expected=plan.processing_events, timeout=300)
    seconds = (state["last"] or 0) - (state["first"] or 0)
    processed = state["by_status"].get("processed", 0)
    rate = (processed - 1) / seconds if seconds > 0 else 0.0
    rows = [
        Row(
            "processing",
            f"direct messages, journal → bot event, events/s (2 workers, {plan.processing_events} events)",
            f"{rate:,.0f}",
            "≥ 300/s",
            verdict(rate >= 300 and processed == plan.processing_events),
        ),
        Row(
            "processing",
            "processed / bot events / messages logged",
            f"{processed} / {state['bot_events']} / {state['messages']}",
            f"{plan.processing_events} each",
            verdict(processed == state["bot_events"] == state["messages"] == plan.processing_events),
        ),
    ]
    if posted.errors:
        rows.append(Row("processing", "non-200 answers while posting", str(posted.errors), "0", verdict(False)))
    reset_inbound(stack)
    return rows


QUERY_COUNT = """
import json as _json
from django.db import connection
from django.test.utils import CaptureQueriesContext
from channels_tiktok.webhooks import journal, processing
from channels_tiktok.webhooks.wire import compute_signature
from config.celery_app import app

def body_of(name, marker, index):
    envelope = _json.loads((FIXTURES / f"{name}.json").read_text())
    text = envelope["content"]
    # A distinct message id per run, the benchmark account as the business.
    for old in ("7440000000000000", "7439122334455667788"):
        text = text.replace(old, old[:-3] + marker)
    # Every fixture has the same user and conversation: one of their own per event type, so that the type's first
    # event comes from a new client and its second from a known one.
    text = text.replace("ZyXwVuTsRqPoNmLkJiHgFeDcBa", f"QueriesBenchUser{index:02d}")
    text = text.replace("7287654321098765432", f"72876543210987654{index:02d}")
    text = text.replace("-000AbCdEfGhIjKlMnOpQrStUvWxYz_biz", BUSINESS_ID)
    # Events without a message id are told apart by their envelope (its hash is the dedupe key).
    envelope.update(content=text, user_openid=BUSINESS_ID, create_time=envelope["create_time"] + int(marker))
    return _json.dumps(envelope).encode()

counts = {}
for name in NAMES:
    row = []
    index = NAMES.index(CONVERSATION_OF.get(name, name))
    for marker, given in zip(("901", "902"), BODIES.get(name, (None, None))):
        body = given.encode() if given else body_of(name, marker, index)
        event_id, _created = journal.record_delivery(body=body, headers={})
        with CaptureQueriesContext(connection) as queries:
            done = processing.process_event(event_id=event_id)
        # As tests/test_query_budget.py counts: every statement but a transaction's BEGIN and COMMIT.
        statements = [q for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")]
        row.append({"queries": len(statements), "status": done.status})
    counts[name] = row
with app.connection_for_write() as conn:
    app.control.purge(connection=conn)
result = counts
"""

QUERY_EVENTS = [
    "im_receive_msg_text",
    "im_receive_msg_share_post",
    "im_receive_msg_button_tap",
    "im_receive_msg_image",
    "im_receive_msg_video",
    "im_receive_msg_sticker",
    "im_receive_msg_emoji",
    "im_receive_msg_reaction",
    "im_receive_msg_eu",
    "im_referral_msg",
    "im_receive_high_intent_comment",
    "im_send_msg_app",
    "im_send_msg_api",
    "im_mark_read_msg",
    "comment_update_insert",
    "comment_update_delete",
    "comment_update_hidden",
    "unknown_event",
]


# A read receipt is about a conversation already open (one read from a stranger is ignored): its two events are
# read receipts in the conversation the text message's events opened, not a new client's and a known one's.
CONVERSATION_OF = {"im_mark_read_msg": "im_receive_msg_text"}
QUERIES_ACCOUNT = "queries_bench"


def sandbox_bodies(stack: Stack, sandbox: CountingSandbox) -> dict[str, list[str]]:
    """Deliveries as TikTok sends them (the sandbox's bodies), for an account connected with a token the sandbox
    issued, where processing must call TikTok: two new comments by one user (each one's text read from TikTok),
    two images and two videos by one user each (each one's download URL asked of TikTok). The fixtures' account has
    no such token: their calls would fail and be counted on the failure path. Two seconds apart on TikTok's clock:
    within one second, the client's last-message time would be left as it is, and the count would depend on
    whether the two straddled a second. Called before any phase subscribes a callback, so the sandbox only
    records these deliveries. (Later phases' deliveries are then signed a few seconds ahead, well within the
    receiver's tolerance.)"""
    control = sandbox.control
    business_id = control.create_account(username=QUERIES_ACCOUNT)["business_id"]
    token = control.issue_token(account=business_id)
    seed_connected_account(stack, token=token, project="Queries benchmark", username=QUERIES_ACCOUNT)
    video = control.add_video(account=business_id)["item_id"]
    fan, pictures, films = (
        control.create_user(username=f"queries.{name}", country="MX")["unique_identifier"]
        for name in ("fan", "pictures", "films")
    )
    bodies: dict[str, list[str]] = {}
    for name, event, act in (
        (
            "comment_update_insert",
            constants.EVENT_COMMENT_UPDATE,
            lambda: control.user_comments(user=fan, video_id=video, text="a comment"),
        ),
        (
            "im_receive_msg_image",
            constants.EVENT_RECEIVE_MSG,
            lambda: control.user_sends_image(account=business_id, user=pictures),
        ),
        (
            "im_receive_msg_video",
            constants.EVENT_RECEIVE_MSG,
            lambda: control.user_sends(type="video", account=business_id, user=films),
        ),
    ):
        before = len(control.deliveries(event=event, business_id=business_id))
        for _repeat in range(2):
            act()
            control.advance_clock(seconds=2)
        delivered = control.deliveries(event=event, business_id=business_id)[before:]
        bodies[name] = [json.dumps(delivery["envelope"]) for delivery in delivered]
    return bodies


def bench_queries(stack: Stack, sandbox: CountingSandbox) -> list[Row]:
    bodies = sandbox_bodies(stack, sandbox)
    counts = stack.python(
        f"from pathlib import Path\nFIXTURES = Path({str(payloads.FIXTURES)!r})\nBUSINESS_ID = {BUSINESS_ID!r}\n"
        f"NAMES = {QUERY_EVENTS!r}\nBODIES = {bodies!r}\nCONVERSATION_OF = {CONVERSATION_OF!r}\n" + QUERY_COUNT
    )
    rows = []
    for name, (first, repeat) in counts.items():
        outcome = first["status"] if first["status"] == repeat["status"] else f"{first['status']} / {repeat['status']}"
        rows.append(
            Row(
                "processing",
                f"database queries, {name} "
                + (
                    f"(in the conversation of {CONVERSATION_OF[name]}: first / second)"
                    if name in CONVERSATION_OF
                    else "(new client / known client)"
                ),
                f"{first['queries']} / {repeat['queries']}",
                "≤ 12 / ≤ 8" if name == "im_receive_msg_text" else "≤ 12",
                verdict(
                    max(first["queries"], repeat["queries"]) <= 12
                    and (name != "im_receive_msg_text" or repeat["queries"] <= 8)
                )
                + f" ({outcome})",
            )
        )
    reset_inbound(stack)
    return rows


def bench_burst(stack: Stack, plan: Plan) -> list[Row]:
    signed = events(plan.burst_events, users=max(plan.burst_events // 10, 1), run=4)
    deliveries = [request for request in signed for _copy in range(plan.burst_copies)]
    random.Random(4).shuffle(deliveries)
    posted = load.run_burst(
        f"{stack.base_url}/webhooks/tiktok/",
        deliveries,
        clients=plan.burst_clients,
        signature_header=SIGNATURE_HEADER,
    )
    state = wait_processed(stack, expected=plan.burst_events, timeout=300)
    processed = state["by_status"].get("processed", 0)
    exact = state["journal"] == processed == state["bot_events"] == state["messages"] == plan.burst_events
    rows = [
        Row(
            "duplicate burst",
            f"{len(deliveries):,} deliveries of {plan.burst_events:,} events, {plan.burst_clients} clients: "
            "req/s, non-200",
            f"{posted.rps:,.0f}, {posted.errors}",
            "0 non-200",
            verdict(posted.errors == 0),
        ),
        Row(
            "duplicate burst",
            "journal rows / processed / bot events / messages",
            f"{state['journal']} / {processed} / {state['bot_events']} / {state['messages']}",
            f"exactly {plan.burst_events:,}",
            verdict(exact),
        ),
    ]
    reset_inbound(stack)
    return rows


COMMENTS_ACCOUNT = "viral_bench"
COMMENTS_SQL = """
SELECT count(*) FILTER (WHERE status <> 'pending'), count(*) FILTER (WHERE status = 'processed'),
       extract(epoch FROM max(processed_at)) - extract(epoch FROM min(received_at))
FROM channels_tiktok_webhookevent WHERE business_id = %s AND event = 'comment.update'
"""


def bench_comments(stack: Stack, plan: Plan, sandbox: CountingSandbox) -> list[Row]:
    """A viral video: `plan.comments` new comments from `plan.commenters` users reach us at once; each one's text
    is read from TikTok (comment/list, under the app's 10 calls per second) before the bot hears of it."""
    control = sandbox.control
    business_id = control.create_account(username=COMMENTS_ACCOUNT)["business_id"]
    token = control.issue_token(account=business_id)
    seed_connected_account(stack, token=token, project="Comments benchmark", username=COMMENTS_ACCOUNT)
    control.subscribe(callback_url=f"{stack.base_url}/webhooks/tiktok/")
    video = control.add_video(account=business_id, caption="Gone viral")["item_id"]
    users = [
        control.create_user(username=f"fan{number}", country="MX")["unique_identifier"]
        for number in range(plan.commenters)
    ]
    for number in range(plan.comments):
        control.user_comments(
            user=users[number % len(users)], video_id=video, text=f"comment {number}", deliver="manual"
        )
    calls_before, refused_before = dict(sandbox.calls), sandbox.refused
    control.flush_deliveries()  # every comment.update, one after another
    deadline = time.monotonic() + 300
    with psycopg.connect(stack.database_url, autocommit=True) as connection:
        while True:
            done, processed, seconds = connection.execute(COMMENTS_SQL, (business_id,)).fetchone()
            if done >= plan.comments or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    path = constants.PATH_COMMENT_LIST
    lists = sandbox.calls.get(path, 0) - calls_before.get(path, 0)
    refused = sandbox.refused - refused_before
    rate = processed / float(seconds) if seconds else 0.0
    return [
        Row(
            "comments",
            f"new comments on one video, first delivery → bot event, comments/s ({plan.comments} comments)",
            f"{rate:,.0f}",
        ),
        Row(
            "comments",
            "processed / comments",
            f"{processed} / {plan.comments}",
            "all",
            verdict(processed == plan.comments),
        ),
        Row(
            "comments",
            f"comment/list calls to TikTok (per comment; up to {constants.COMMENT_LIST_MAX_IDS} comments a call)",
            f"{lists} ({lists / max(plan.comments, 1):.2f})",
        ),
        Row("comments", "calls refused with 40100", str(refused), "0", verdict(refused == 0)),
    ]
