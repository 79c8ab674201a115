"""HTTP plumbing of the sandbox: a parsed request, a response, and TikTok's envelope.

Kept free of any framework so the sandbox is a plain WSGI app that starts in milliseconds inside tests.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from channels_tiktok import constants

MAX_BODY_BYTES = 16 * 1024 * 1024  # bigger than the 3 MB image limit, so 40907 is answered, not a socket error


class ApiError(Exception):
    """A TikTok error: answered as HTTP 200 with a non-zero `code`, like TikTok does."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class BadRequestError(Exception):
    """A malformed request to a non-API page (consent page, control surface): plain HTTP 400."""


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    environ: dict = field(repr=False, default_factory=dict)

    @classmethod
    def from_environ(cls, environ: dict) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES)) if length > 0 else b""
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "/"),
            query_string=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            environ=environ,
        )

    @property
    def query(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.query_string, keep_blank_values=True).items()}

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> dict:
        """The JSON object of the body; TikTok answers a malformed body with 40002."""
        if not self.body:
            return {}
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise ApiError(constants.CODE_INVALID_PARAM_2, "The request body is not valid JSON.") from exc
        if not isinstance(value, dict):
            raise ApiError(constants.CODE_INVALID_PARAM_2, "The request body must be a JSON object.")
        return value

    def form(self) -> dict[str, list[str]]:
        """URL-encoded form fields, each a list (checkboxes repeat)."""
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def multipart(self) -> dict[str, tuple[str | None, bytes]]:
        """multipart/form-data fields as name -> (filename, bytes), parsed with the stdlib email parser."""
        header = self.headers.get("content-type", "")
        raw = b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + self.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        if not message.is_multipart():
            return {}
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
        return fields


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status=status, body=json.dumps(value).encode())

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status=status, body=text.encode(), content_type="text/html; charset=utf-8")

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status=status, body=text.encode(), content_type="text/plain; charset=utf-8")

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(status=302, body=b"", content_type="text/plain", headers=[("Location", location)])


def new_request_id() -> str:
    return secrets.token_hex(16)


def envelope(data: Any = None, *, code: int = constants.CODE_OK, message: str = "OK") -> Response:
    """TikTok's answer: always HTTP 200, the outcome in `code`. An error carries `data: null`, as TikTok's do."""
    if data is None and code == constants.CODE_OK:
        data = {}
    return Response.json({"code": code, "message": message, "request_id": new_request_id(), "data": data})
