"""business/message/auto_message/*: the account's welcome message, suggested questions and chat prompts.

Kept on the sandbox core (`sandbox.auto_messages`, `sandbox.auto_status`), cleared by `reset()`. Every created or
updated item is `REVIEWING`; it becomes `APPROVED` once `REVIEW_SECONDS` of the sandbox clock have passed, or
whatever the control action `review_auto_message` says. TikTok documents no error codes for the limits: each is
answered 40002 with a message naming the broken limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels_tiktok import constants
from channels_tiktok.sandbox.api.common import _invalid, authenticate
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.state import Account
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

REVIEW_SECONDS = 600


@dataclass
class AutoItem:
    auto_message_id: str
    business_id: str
    type: str
    fields: dict
    order: int
    reviewed_at: float  # when the review ends on its own
    audit_status: str | None = None  # set by review_auto_message; None: by the clock

    def status(self, now: float) -> str:
        if self.audit_status:
            return self.audit_status
        return constants.AUTO_REVIEW_APPROVED if now >= self.reviewed_at else constants.AUTO_REVIEW_REVIEWING

    def as_dict(self, now: float) -> dict:
        return {
            "auto_message_id": self.auto_message_id,
            "auto_message_type": self.type,
            constants.AUTO_MESSAGE_BODY_KEYS[self.type]: dict(self.fields),
            "order": self.order,
            "audit_status": self.status(now),
        }


def _account(sandbox: SandboxCore, request: Request, business_id: Any) -> Account:
    _grant, account = authenticate(sandbox, request, business_id=business_id, scope=constants.SCOPE_MESSAGE_MANAGE)
    return account


def _type(value: Any) -> str:
    if value not in constants.AUTO_MESSAGE_TYPES:
        raise _invalid(f"auto_message_type must be one of {', '.join(constants.AUTO_MESSAGE_TYPES)}.")
    return value


def _items(sandbox: SandboxCore, business_id: str, type_: str | None = None) -> list[AutoItem]:
    rows = [
        i for i in sandbox.auto_messages.values() if i.business_id == business_id and (type_ is None or i.type == type_)
    ]
    return sorted(rows, key=lambda i: (i.type, i.order, i.auto_message_id))


def _fields(type_: str, body: dict) -> dict:
    key = constants.AUTO_MESSAGE_BODY_KEYS[type_]
    value = body.get(key)
    if not isinstance(value, dict):
        raise _invalid(f"{key} is required for {type_}.")
    fields = {}
    for name, limit in constants.AUTO_MESSAGE_FIELD_LIMITS[type_].items():
        text = value.get(name)
        if not isinstance(text, str) or not text.strip():
            raise _invalid(f"{key}.{name} is required.")
        if len(text) > limit:
            raise _invalid(f"{key}.{name} is longer than {limit} characters.")
        fields[name] = text
    return fields


def _own_item(sandbox: SandboxCore, account: Account, auto_message_id: Any) -> AutoItem:
    item = sandbox.auto_messages.get(str(auto_message_id or ""))
    if item is None or item.business_id != account.business_id:
        raise ApiError(constants.CODE_NOT_FOUND, "The auto message does not exist for this business_id.")
    return item


def create(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body.get("business_id"))
        type_ = _type(body.get("auto_message_type"))
        fields = _fields(type_, body)
        existing = _items(sandbox, account.business_id, type_)
        limit = constants.AUTO_MESSAGE_MAX_ITEMS[type_]
        if len(existing) >= limit:
            raise _invalid(f"At most {limit} {type_} item(s) per account.")
        sandbox.auto_message_seq += 1
        now = sandbox.state.clock.now()
        item = AutoItem(
            auto_message_id=f"am-{sandbox.auto_message_seq}",
            business_id=account.business_id,
            type=type_,
            fields=fields,
            order=len(existing) + 1,
            reviewed_at=now + REVIEW_SECONDS,
        )
        sandbox.auto_messages[item.auto_message_id] = item
        return envelope({"auto_message_id": item.auto_message_id, "audit_status": item.status(now)})


def update(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body.get("business_id"))
        item = _own_item(sandbox, account, body.get("auto_message_id"))
        item.fields = _fields(item.type, body)
        now = sandbox.state.clock.now()
        item.reviewed_at, item.audit_status = now + REVIEW_SECONDS, None
        return envelope({"auto_message_id": item.auto_message_id, "audit_status": item.status(now)})


def delete(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body.get("business_id"))
        item = _own_item(sandbox, account, body.get("auto_message_id"))
        del sandbox.auto_messages[item.auto_message_id]
        for order, rest in enumerate(_items(sandbox, account.business_id, item.type), start=1):
            rest.order = order
        return envelope({})


def sort(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body.get("business_id"))
        type_ = _type(body.get("auto_message_type"))
        ids = body.get("auto_message_ids")
        current = {i.auto_message_id for i in _items(sandbox, account.business_id, type_)}
        if not isinstance(ids, list) or len(ids) != len(set(map(str, ids))) or set(map(str, ids)) != current:
            raise _invalid("auto_message_ids must list every item of the type exactly once.")
        for order, auto_message_id in enumerate(ids, start=1):
            sandbox.auto_messages[str(auto_message_id)].order = order
        return envelope({})


def get(sandbox: SandboxCore, request: Request) -> Response:
    query = request.query
    with sandbox.state.lock:
        account = _account(sandbox, request, query.get("business_id"))
        type_ = _type(query["auto_message_type"]) if query.get("auto_message_type") else None
        now = sandbox.state.clock.now()
        types = [type_] if type_ else list(constants.AUTO_MESSAGE_TYPES)
        statuses = [
            {
                "auto_message_type": t,
                "operation_status": sandbox.auto_status.get((account.business_id, t), constants.OPERATION_DISABLE),
            }
            for t in types
        ]
        items = [i.as_dict(now) for i in _items(sandbox, account.business_id, type_)]
        return envelope({"auto_messages": items, "statuses": statuses})


def status_update(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _account(sandbox, request, body.get("business_id"))
        type_ = _type(body.get("auto_message_type"))
        operation = body.get("operation_status")
        if operation not in (constants.OPERATION_ENABLE, constants.OPERATION_DISABLE):
            raise _invalid("operation_status must be ENABLE or DISABLE.")
        sandbox.auto_status[(account.business_id, type_)] = operation
        return envelope({})
