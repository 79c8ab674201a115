"""What `comment.update` does: a user's new comment on one of the account's videos becomes
`tiktok_client_new_comment <video_id>: <text>` for the bot (R11). The documented webhook carries neither the text
nor the author's name, so they are read from TikTok first, the comments of one video together; a webhook that
does carry the text and its author (some do) is told as it is, without a call.
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, Exists, OuterRef, Value, When

from channels_tiktok import constants
from channels_tiktok.accounts import tokens
from channels_tiktok.models import TikTokAccount, WebhookEvent
from channels_tiktok.webhooks.inbound import (
    PROCESSED,
    Inbound,
    Outcome,
    id_in,
    ignored,
    log_inbound_message,
    upsert_user,
)
from clients import services
from clients.models import BotEvent, Message


def _by_account(inbound: Inbound, author: str) -> bool:
    account = inbound.account
    return bool(author) and author in {account.business_id, account.username}


# Whether a journal row's comment is a reply we posted (logged by the reply service under TikTok's comment id):
# read with the row, under its lock, each time processing takes it (handlers.ROW_FACTS, processing.py), so that
# neither the check before the call to TikTok nor the one when applying costs a query of its own.
OUR_REPLY = Case(
    When(comment_id="", then=Value(False)),
    default=Exists(
        Message.objects.filter(
            channel__tiktok_account__business_id=OuterRef("business_id"),
            kind=Message.Kind.COMMENT_REPLY,
            external_id=OuterRef("comment_id"),
        )
    ),
    output_field=BooleanField(),
)


def _our_reply(inbound: Inbound, comment_id: str) -> bool:
    """A reply we posted: as read with the journal row (`OUR_REPLY`), else asked now."""
    known = getattr(inbound.event, "our_reply", None)
    if known is not None and inbound.event.comment_id == comment_id:
        return known
    return Message.objects.filter(
        channel=inbound.channel, kind=Message.Kind.COMMENT_REPLY, external_id=comment_id
    ).exists()


def _own_comment(inbound: Inbound, *, author: str, comment_id: str) -> bool:
    return _by_account(inbound, author) or _our_reply(inbound, comment_id)


def _action(inbound: Inbound) -> str:
    action = inbound.content.get("comment_action")
    return action.strip().lower() if isinstance(action, str) else ""


def _is_new_comment(inbound: Inbound) -> bool:
    return _action(inbound) == constants.COMMENT_ACTION_INSERT


def _carried(inbound: Inbound) -> dict | None:
    """The comment as the webhook itself carries it (`text` and its author), or None when it must be read."""
    text = inbound.content.get("text")
    author = id_in(inbound.content, "unique_identifier")
    if isinstance(text, str) and author:
        return {"comment_id": id_in(inbound.content, "comment_id"), "text": text, "unique_identifier": author}
    return None


def _list_comments(account: TikTokAccount, *, video_id: str, comment_ids: list[str]) -> list[dict]:
    return tokens.call(
        account,
        lambda client: client.list_comments(
            business_id=account.business_id, video_id=video_id, comment_ids=comment_ids
        ),
    )


def fetch_comments(inbounds: list[Inbound]) -> list[dict | Exception]:
    """New comments' text and author (`comment.update` carries neither), for many rows: the comments of one video
    are asked for together, COMMENT_LIST_MAX_IDS per call, so a viral video's comments do not spend one call of
    the app's 10 per second each. Our own comments are not asked for. Per row: what lands in `Inbound.fetched`, or
    the error of its call (the row then fails and is retried)."""
    results: list[dict | Exception] = [{} for _ in inbounds]
    by_video: dict[tuple[int, str], list[int]] = {}
    for index, inbound in enumerate(inbounds):
        author = id_in(inbound.content, "unique_identifier")
        comment_id = id_in(inbound.content, "comment_id")
        video_id = id_in(inbound.content, "video_id")
        if not (_is_new_comment(inbound) and comment_id and video_id) or _carried(inbound) is not None:
            continue  # nothing to tell, nothing to read it by, or the webhook carries it already
        if not _own_comment(inbound, author=author, comment_id=comment_id):
            by_video.setdefault((inbound.account.pk, video_id), []).append(index)
    for (_account, video_id), indexes in by_video.items():
        for start in range(0, len(indexes), constants.COMMENT_LIST_MAX_IDS):
            chunk = indexes[start : start + constants.COMMENT_LIST_MAX_IDS]
            account = inbounds[chunk[0]].account
            ids = [id_in(inbounds[index].content, "comment_id") for index in chunk]
            try:
                comments = _list_comments(account, video_id=video_id, comment_ids=list(dict.fromkeys(ids)))
            except tokens.AccountUnavailableError as exc:
                # Webhooks still arrive for an account that needs reauthorisation, but the text cannot be read.
                for index in chunk:
                    results[index] = {"unavailable": exc.reason}
                continue
            except Exception as exc:  # noqa: BLE001 - TikTok's or the network's: each row fails and is retried
                for index in chunk:
                    results[index] = exc
                continue
            found = {id_in(comment, "comment_id"): comment for comment in comments if isinstance(comment, dict)}
            for index, comment_id in zip(chunk, ids, strict=True):
                results[index] = {"comment": found.get(comment_id)}
    return results


def fetch_comment(inbound: Inbound) -> dict:
    """`fetch_comments` for one row; its call's error is raised."""
    (result,) = fetch_comments([inbound])
    if isinstance(result, Exception):
        raise result
    return result


def comment_status(inbound: Inbound, action: str) -> Outcome:
    """A comment was deleted, hidden, made friends-only or public again: `comment.status` for the bot, with the
    commenter's client when the comment is one we logged."""
    comment_id = inbound.envelope.id_of("comment_id")
    logged = (
        Message.objects.filter(channel=inbound.channel, external_id=comment_id)
        .filter(kind__in=[Message.Kind.COMMENT, Message.Kind.COMMENT_REPLY])
        .select_related("client")
        .first()
    )
    data = {"comment_id": comment_id, "video_id": inbound.envelope.id_of("video_id"), "action": action}
    inbound.emit(BotEvent.Type.COMMENT_STATUS, client=logged.client if logged else None, data=data)
    return PROCESSED


def comment_update(inbound: Inbound) -> Outcome:
    """comment.update: a user's new comment becomes `tiktok_client_new_comment <video_id>: <text>` (R11)."""
    content = inbound.content
    action = str(content.get("comment_action") or "")
    if action in constants.COMMENT_STATUS_ACTIONS:
        return comment_status(inbound, action)
    if not _is_new_comment(inbound):
        return ignored(f"comment action {action!r} is not told to the bot")
    comment_id = id_in(content, "comment_id")
    video_id = id_in(content, "video_id")
    author = id_in(content, "unique_identifier")
    if not comment_id:
        return ignored("comment.update without comment_id: nothing to tell it by")
    # As read with the row under its lock in this transaction: a reply of ours logged since the comment was read
    # from TikTok counts.
    if _by_account(inbound, author) or _our_reply(inbound, comment_id):
        return ignored("the account's own comment or reply")
    comment = _carried(inbound)
    if comment is None:
        if not video_id:
            return Outcome(WebhookEvent.Status.FAILED, "comment.update with neither its text nor its video_id")
        if "unavailable" in inbound.fetched:
            reason = inbound.fetched["unavailable"]
            return Outcome(WebhookEvent.Status.FAILED, f"comment text not fetched: account unavailable ({reason})")
        comment = inbound.fetched.get("comment")
        if comment is None:
            return Outcome(WebhookEvent.Status.FAILED, "comment not found on TikTok (deleted before we read it?)")
    author = id_in(comment, "unique_identifier") or author
    if _by_account(inbound, author):
        return ignored("the account's own comment or reply")
    if not author:
        return Outcome(WebhookEvent.Status.FAILED, "comment without its author's unique_identifier")
    text = got if isinstance(got := comment.get("text"), str) else ""
    at = inbound.at()
    client = upsert_user(
        inbound,
        external_id=author,
        username=got if isinstance(got := comment.get("username"), str) else "",
        display_name=got if isinstance(got := comment.get("display_name"), str) else "",
        seen_at=at,
    )
    variables, _changed = services.merge_variables(
        client=client, values={constants.VAR_COMMENT_ID: comment_id, constants.VAR_COMMENT_VIDEO_ID: video_id}
    )
    parent_id = id_in(content, "parent_comment_id")
    data = {
        "type": "comment",
        "kind": Message.Kind.COMMENT,
        "comment_id": comment_id,
        "video_id": video_id,
        "parent_comment_id": parent_id,
    }
    log_inbound_message(
        inbound,
        external_id=comment_id,
        fields={
            "client": client,
            "kind": Message.Kind.COMMENT,
            "source": Message.Source.CLIENT,
            "status": Message.Status.RECEIVED,
            "text": text,
            "payload": {**data, "webhook_event": inbound.event.pk},
        },
    )
    inbound.emit(
        BotEvent.Type.CLIENT_MESSAGE,
        client=client,
        text=f"{constants.CALLBACK_NEW_COMMENT} {video_id}: {text}",
        data=data,
        variables=variables,
    )
    return PROCESSED
