"""What each TikTok webhook event does: a table from event name to handler, plus the events we ignore on purpose.
The handlers live by event family: direct_messages.py (`im_*`; a user's message is read by received.py),
comments.py (`comment.update`); what they share is in inbound.py. Every payload is read tolerantly
(docs/tiktok-api.md, "As delivered").

Processing has two steps: `prepare` reads and asks TikTok what the event does not carry (a comment's text, an
image's download URL) outside any transaction, so no lock is held during a remote call; `apply` then writes
everything in one transaction, under the journal row's lock (see processing.py). A worker's batch goes
through `prepare_many` (the comments of one video read in shared calls) and `apply_many` (consecutive direct
messages written set-wise, with the result of applying them one at a time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db.models import Q

from channels_tiktok import constants
from channels_tiktok.models import TikTokAccount, WebhookEvent
from channels_tiktok.webhooks import wire
from channels_tiktok.webhooks.comments import OUR_REPLY, comment_update, fetch_comment, fetch_comments
from channels_tiktok.webhooks.direct_messages import (
    fetch_media,
    mark_read,
    receive_message,
    receive_message_restricted,
    receive_messages,
    send_echo,
)
from channels_tiktok.webhooks.high_intent import receive_high_intent_comment
from channels_tiktok.webhooks.inbound import Inbound, Outcome, ignored
from channels_tiktok.webhooks.received import message_type
from channels_tiktok.webhooks.referrals import receive_referral


def _always(inbound: Inbound) -> bool:
    return True


def _is_media(inbound: Inbound) -> bool:
    return message_type(inbound.content) in constants.MEDIA_MESSAGE_TYPES


@dataclass(frozen=True)
class Route:
    apply: Callable[[Inbound], Outcome]
    # The same for consecutive rows at once, in arrival order (a batch of a worker): set-wise writes.
    apply_many: Callable[[list[Inbound]], list[Outcome]] | None = None
    # Remote reads the handler needs, made before the transaction; returns what lands in `Inbound.fetched`.
    fetch: Callable[[Inbound], dict] | None = None
    # Whether this row needs `fetch` at all (a text message needs no download URL): rows that need none can be
    # processed in a batch, inside one transaction (processing.py).
    fetches: Callable[[Inbound], bool] = _always
    # `fetch` for many rows at once, sharing TikTok calls; per row its result or its error.
    fetch_many: Callable[[list[Inbound]], list[dict | Exception]] | None = None


HANDLERS: dict[str, Route] = {
    constants.EVENT_RECEIVE_MSG: Route(
        receive_message, apply_many=receive_messages, fetch=fetch_media, fetches=_is_media
    ),
    constants.EVENT_RECEIVE_MSG_EU: Route(receive_message_restricted),
    constants.EVENT_SEND_MSG: Route(send_echo),
    constants.EVENT_MARK_READ: Route(mark_read),
    constants.EVENT_COMMENT_UPDATE: Route(comment_update, fetch=fetch_comment, fetch_many=fetch_comments),
    constants.EVENT_REFERRAL: Route(receive_referral),
    constants.EVENT_HIGH_INTENT_COMMENT: Route(receive_high_intent_comment),
}
# What handlers need to know about a journal row beyond its columns, read with the row whenever processing locks it
# (an annotation of the locking SELECT: no query of its own).
ROW_FACTS = {"our_reply": OUR_REPLY}
# Known events the bot is not told about, with the note the journal keeps.
IGNORED_EVENTS: dict[str, str] = {}


def _account(business_id: str, accounts: dict[str, TikTokAccount | None] | None) -> TikTokAccount | None:
    """The connected account of a business id; `accounts` caches it for the rows of one batch."""
    if accounts is not None and business_id in accounts:
        return accounts[business_id]
    account = TikTokAccount.objects.select_related("channel__project").filter(business_id=business_id).first()
    if accounts is not None:
        accounts[business_id] = account
    return account


def _routed(event: WebhookEvent, accounts: dict[str, TikTokAccount | None] | None) -> Inbound | Outcome:
    """A journal row with its envelope and account, or its outcome when there is nothing to apply."""
    try:
        envelope = wire.parse_envelope(event.raw_body.encode())
    except wire.MalformedPayloadError as exc:
        return Outcome(WebhookEvent.Status.FAILED, f"malformed payload: {exc}")
    if envelope.event not in HANDLERS:
        return ignored(IGNORED_EVENTS.get(envelope.event, f"unknown event {envelope.event!r}"))
    account = _account(envelope.business_id, accounts)
    if account is None:
        return ignored(f"no connected account with business_id {envelope.business_id!r}")
    return Inbound(event=event, envelope=envelope, account=account)


def _needs_fetch(inbound: Inbound) -> bool:
    # A disconnected account's rows are journaled as ignored by apply: nothing to read.
    route = HANDLERS[inbound.envelope.event]
    return (
        inbound.account.status != TikTokAccount.Status.DISCONNECTED
        and route.fetch is not None
        and route.fetches(inbound)
    )


def prepare(
    event: WebhookEvent, *, remote: bool = True, accounts: dict[str, TikTokAccount | None] | None = None
) -> Inbound | Outcome | None:
    """Route a journal row and make its remote reads. Outside any transaction: it may call TikTok.

    Returns what `apply` needs, or the outcome right away when there is nothing to apply. With `remote=False`
    nothing remote is called: a row that would need a remote read gives None (it is left to its own task)."""
    routed = _routed(event, accounts)
    if isinstance(routed, Outcome) or not _needs_fetch(routed):
        return routed
    if not remote:
        return None
    fetch = HANDLERS[routed.envelope.event].fetch
    assert fetch is not None  # _needs_fetch said so
    routed.fetched = fetch(routed)
    return routed


def prepare_many(
    events: list[WebhookEvent], *, accounts: dict[str, TikTokAccount | None] | None = None
) -> list[Inbound | Outcome | Exception]:
    """`prepare` for many rows, outside any transaction; rows whose route reads TikTok set-wise
    (`Route.fetch_many`: comments) share their calls. Per row: what `apply` needs, or the error to journal.
    `accounts` may hold the accounts already read for these rows (by business id)."""
    accounts = {} if accounts is None else accounts
    prepared: list[Inbound | Outcome | Exception] = []
    to_fetch: dict[str, list[tuple[int, Inbound]]] = {}
    for index, event in enumerate(events):
        try:
            routed = _routed(event, accounts)
        except Exception as exc:  # noqa: BLE001 - journaled for its row, like a failure of apply
            prepared.append(exc)
            continue
        prepared.append(routed)
        if isinstance(routed, Inbound) and _needs_fetch(routed):
            to_fetch.setdefault(routed.envelope.event, []).append((index, routed))
    for name, pending in to_fetch.items():
        route = HANDLERS[name]
        inbounds = [inbound for _index, inbound in pending]
        if route.fetch_many is not None:
            results = route.fetch_many(inbounds)
        else:
            results = [_fetch_one(route, inbound) for inbound in inbounds]
        for (index, inbound), result in zip(pending, results, strict=True):
            if isinstance(result, Exception):
                prepared[index] = result
            else:
                inbound.fetched = result
    return prepared


def _fetch_one(route: Route, inbound: Inbound) -> dict | Exception:
    try:
        assert route.fetch is not None  # _needs_fetch said so
        return route.fetch(inbound)
    except Exception as exc:  # noqa: BLE001 - journaled for its row
        return exc


def _bind(prepared: Inbound | Outcome, event: WebhookEvent) -> Inbound | Outcome:
    """The prepared row bound to `event`, the locked journal row, or the outcome when there is nothing to write."""
    if isinstance(prepared, Outcome):
        return prepared
    # A fresh count of emitted events per call: a retried apply gives its bot events the same keys again.
    inbound = replace(prepared, event=event, _emitted={})
    event.account = inbound.account
    if inbound.account.status == TikTokAccount.Status.DISCONNECTED:
        return ignored("the account is disconnected")
    return inbound


def apply(prepared: Inbound | Outcome, *, event: WebhookEvent) -> Outcome:
    """Write what a prepared row means, in the caller's transaction; `event` is the locked journal row.

    The account's `last_webhook_at` is the caller's to move (`touch_accounts`), once per transaction."""
    return apply_many([(prepared, event)])[0]


def apply_many(items: list[tuple[Inbound | Outcome, WebhookEvent]]) -> list[Outcome]:
    """`apply` for rows in order, in the caller's transaction. Consecutive rows of one event whose handler writes
    set-wise (`Route.apply_many`) are written together; the result is that of applying the rows one by one."""
    outcomes: list[Outcome] = []
    run: list[Inbound] = []

    def flush() -> None:
        if run:
            apply_run = HANDLERS[run[0].envelope.event].apply_many
            assert apply_run is not None  # `run` holds rows of a set-wise route only
            outcomes.extend(apply_run(run))
            run.clear()

    for prepared, event in items:
        bound = _bind(prepared, event)
        if isinstance(bound, Outcome):
            flush()
            outcomes.append(bound)
            continue
        route = HANDLERS[bound.envelope.event]
        if run and run[0].envelope.event != bound.envelope.event:
            flush()
        if route.apply_many is None:
            outcomes.append(route.apply(bound))
        else:
            run.append(bound)
    flush()
    return outcomes


TOUCH_EVERY = dt.timedelta(minutes=1)


def touch_accounts(applied: list[tuple[Inbound | Outcome, WebhookEvent]]) -> None:
    """Move each active account's `last_webhook_at` forward to the newest row applied for it: one UPDATE per
    account, whatever the number of rows."""
    latest: dict[int, dt.datetime] = {}
    known: dict[int, dt.datetime | None] = {}
    for prepared, event in applied:
        if isinstance(prepared, Inbound) and prepared.account.status != TikTokAccount.Status.DISCONNECTED:
            pk = prepared.account.pk
            latest[pk] = max(latest.get(pk, event.received_at), event.received_at)
            known[pk] = prepared.account.last_webhook_at
    for pk, received_at in latest.items():
        # At most once a minute per account: the value as loaded with the account is recent enough to skip the write.
        last = known[pk]
        if last is not None and received_at - last < TOUCH_EVERY:
            continue
        TikTokAccount.objects.filter(pk=pk).filter(
            Q(last_webhook_at__isnull=True) | Q(last_webhook_at__lt=received_at)
        ).update(last_webhook_at=received_at)
