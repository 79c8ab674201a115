"""The account's automatic messages (welcome message, suggested questions, chat prompts): kept in
`AutoMessage` rows, written to TikTok (`auto_message/create|update|delete|sort`), switched per type
(`auto_message/status/update`), and read back with TikTok's review (`auto_message/get`).

A save replaces one type's items by position: a changed item is updated (TikTok reviews it again), a new one is
created, the ones left over are deleted; chat prompts are then put in the given order. Every call goes through
`outbound.call` (the app's rate limiter, one token refresh, safe retries).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from django.utils import timezone

from channels_tiktok import constants
from channels_tiktok.messaging import rules
from channels_tiktok.messaging.outbound import BlockedError, RuleViolationsError, UpstreamError, call, ensure_available
from channels_tiktok.models import AutoMessage, TikTokAccount
from channels_tiktok.tiktok.client import TikTokClient, TikTokError

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Our API's section names -> TikTok's types.
SECTIONS = {
    "welcome_message": constants.AUTO_WELCOME,
    "suggested_questions": constants.AUTO_SUGGESTED_QUESTION,
    "chat_prompts": constants.AUTO_CHAT_PROMPT,
}
# TikTok's field names of each type -> our columns (title, content).
_COLUMNS = {
    constants.AUTO_WELCOME: {"content": "content"},
    constants.AUTO_SUGGESTED_QUESTION: {"question": "title", "answer": "content"},
    constants.AUTO_CHAT_PROMPT: {"title": "title", "content": "content"},
}


def fields_of(row: AutoMessage) -> dict:
    """The row's texts as TikTok names them for its type."""
    return {name: getattr(row, column) for name, column in _COLUMNS[row.type].items()}


def _columns(auto_message_type: str, fields: dict) -> dict:
    return {column: str(fields.get(name) or "") for name, column in _COLUMNS[auto_message_type].items()}


def configuration(account: TikTokAccount) -> dict:
    """Every section with its items (TikTok's field names, plus `id` and `review_status`) and `enabled`."""
    rows = list(AutoMessage.objects.filter(account=account).order_by("type", "position"))
    result: dict = {}
    for section, auto_type in SECTIONS.items():
        result[section] = {
            "enabled": bool((account.auto_messages_enabled or {}).get(auto_type, False)),
            "items": [
                {"id": row.external_id, **fields_of(row), "review_status": row.review_status or None}
                for row in rows
                if row.type == auto_type
            ],
        }
    result["refreshed_at"] = account.auto_messages_refreshed_at
    return result


def _ready(account: TikTokAccount) -> None:
    ensure_available(account)
    if not account.scopes.filter(scope=constants.SCOPE_MESSAGE_MANAGE).exists():
        raise BlockedError(
            "missing_scope",
            f"The account did not grant {constants.SCOPE_MESSAGE_MANAGE}: reconnect it and allow conversation "
            "management.",
        )


def _call(account: TikTokAccount, operation: Callable[[TikTokClient], T], event: str) -> T:
    try:
        return call(account, operation, event=event)
    except TikTokError as error:
        raise UpstreamError.from_error(error) from error


def save_section(account: TikTokAccount, *, section: str, items: list[dict] | None, enabled: bool | None) -> None:
    """Replace one type's items (`items` None: leave them) and switch it (`enabled` None: leave it). Raises
    RuleViolationsError (422), BlockedError (409), SendRateLimitedError (429), UpstreamError (502)."""
    auto_type = SECTIONS[section]
    if items is not None:
        errors = rules.check_auto_messages(auto_type, items, field_name=f"{section}.items")
        if errors:
            raise RuleViolationsError(errors)
    _ready(account)
    business_id = account.business_id
    if items is not None:
        _sync_items(account, auto_type, items)
    current = bool((account.auto_messages_enabled or {}).get(auto_type, False))
    if enabled is not None and enabled != current:
        _call(
            account,
            lambda c: c.update_auto_message_status(
                business_id=business_id, auto_message_type=auto_type, enabled=enabled
            ),
            "tiktok.auto_message.status",
        )
        account.auto_messages_enabled = {**(account.auto_messages_enabled or {}), auto_type: enabled}
        account.save(update_fields=["auto_messages_enabled", "updated_at"])
    logger.info("tiktok.auto_messages.saved", extra={"account_id": account.pk, "type": auto_type})


def _sync_items(account: TikTokAccount, auto_type: str, items: list[dict]) -> None:
    business_id = account.business_id
    existing = list(AutoMessage.objects.filter(account=account, type=auto_type).order_by("position"))
    created = False
    for position, item in enumerate(items, start=1):
        fields = {name: str(item.get(name) or "") for name in _COLUMNS[auto_type]}
        row = existing[position - 1] if position <= len(existing) else None
        if row is not None and fields_of(row) == fields:
            continue
        if row is not None:
            data = _call(
                account,
                functools.partial(
                    TikTokClient.update_auto_message,
                    business_id=business_id,
                    auto_message_id=row.external_id,
                    auto_message_type=auto_type,
                    fields=fields,
                ),
                "tiktok.auto_message.update",
            )
            external_id = row.external_id
        else:
            data = _call(
                account,
                functools.partial(
                    TikTokClient.create_auto_message,
                    business_id=business_id,
                    auto_message_type=auto_type,
                    fields=fields,
                ),
                "tiktok.auto_message.create",
            )
            external_id, created = str(data.get("auto_message_id") or ""), True
        review = str(data.get("audit_status") or constants.AUTO_REVIEW_REVIEWING)
        AutoMessage.objects.update_or_create(
            account=account,
            type=auto_type,
            position=position,
            defaults={**_columns(auto_type, fields), "external_id": external_id, "review_status": review},
        )
    for row in existing[len(items) :]:
        _call(
            account,
            functools.partial(
                TikTokClient.delete_auto_message, business_id=business_id, auto_message_id=row.external_id
            ),
            "tiktok.auto_message.delete",
        )
        row.delete()
    if auto_type == constants.AUTO_CHAT_PROMPT and created and len(items) > 1:
        ids = list(
            AutoMessage.objects.filter(account=account, type=auto_type)
            .order_by("position")
            .values_list("external_id", flat=True)
        )
        _call(
            account,
            lambda c: c.sort_auto_messages(business_id=business_id, auto_message_type=auto_type, auto_message_ids=ids),
            "tiktok.auto_message.sort",
        )


def refresh(account: TikTokAccount) -> dict:
    """Read every item, its review and each type's switch from TikTok; our rows become TikTok's."""
    _ready(account)
    data = _call(account, lambda c: c.get_auto_messages(business_id=account.business_id), "tiktok.auto_message.get")
    items = [i for i in data.get("auto_messages") or [] if isinstance(i, dict)]
    rows = []
    for auto_type in constants.AUTO_MESSAGE_TYPES:
        key = constants.AUTO_MESSAGE_BODY_KEYS[auto_type]
        of_type = sorted(
            (i for i in items if i.get("auto_message_type") == auto_type), key=lambda i: int(i.get("order") or 0)
        )
        for position, item in enumerate(of_type, start=1):
            review = str(item.get("audit_status") or "")
            rows.append(
                AutoMessage(
                    account=account,
                    type=auto_type,
                    position=position,
                    external_id=str(item.get("auto_message_id") or ""),
                    review_status=review if review in constants.AUTO_REVIEW_STATUSES else "",
                    **_columns(auto_type, got if isinstance(got := item.get(key), dict) else {}),
                )
            )
    enabled = {
        str(s.get("auto_message_type")): s.get("operation_status") == constants.OPERATION_ENABLE
        for s in data.get("statuses") or []
        if isinstance(s, dict) and s.get("auto_message_type") in constants.AUTO_MESSAGE_TYPES
    }
    AutoMessage.objects.filter(account=account).delete()
    AutoMessage.objects.bulk_create(rows)
    account.auto_messages_enabled = {**(account.auto_messages_enabled or {}), **enabled}
    account.auto_messages_refreshed_at = timezone.now()
    account.save(update_fields=["auto_messages_enabled", "auto_messages_refreshed_at", "updated_at"])
    logger.info("tiktok.auto_messages.refreshed", extra={"account_id": account.pk, "items": len(rows)})
    return configuration(account)
