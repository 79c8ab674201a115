"""Images the bot sends (R9): fetched safely from a URL or read from an upload, judged by their bytes.

A URL given by the bot is fetched by our server, so it must not become a way into our network (SSRF):
- http(s) only; the host is resolved once, every resolved address must be public (`clients.netguard`, shared with
  the bot's callback URL: IPv6 forms carrying an IPv4 address are judged by it), and the connection goes to
  the address that was checked (no second lookup, so DNS rebinding cannot swap it);
- redirects are followed by hand, each hop checked the same way, at most `MAX_REDIRECTS`;
- the body is streamed and reading stops at the cap + 1 byte; the whole fetch (hops, headers, body) has one
  deadline, enforced by shutting its sockets down when it passes (a server dripping a byte per read timeout
  cannot hold a web thread);
- hosts in `settings.IMAGE_FETCH_ALLOWED_HOSTS` skip the address check (the sandbox on loopback in the demo).
The format is decided by the file's first bytes, never by its name or Content-Type.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from channels_tiktok import constants
from channels_tiktok.messaging import rules
from clients import netguard
from clients.deadline import Deadline, WatchedPoolMixin

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
TOO_SLOW = "The image download took too long."
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CODES: dict[str, str] = {
    "image_url_invalid": "The image URL is not an http(s) URL with a host name.",
    "image_url_forbidden": "The image URL points to a private, loopback, link-local or reserved address.",
    "image_too_many_redirects": f"The image URL redirects more than {MAX_REDIRECTS} times.",
    "image_fetch_failed": "The image could not be downloaded (network error, timeout or a non-200 answer).",
    # The two rules on an image's bytes are the messaging rules' own (one wording, in rules.CODES).
    "image_too_large": rules.CODES["image_too_large"],
    "image_format_unsupported": rules.CODES["image_format_unsupported"],
}


class ImageFetchesBusyError(Exception):
    """The project already has `IMAGE_FETCH_CONCURRENCY_PER_PROJECT` image downloads running in this process."""


class ImageError(Exception):
    """An image we refuse; `code` is one of `CODES`."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or CODES[code])
        self.code = code
        self.message = message or CODES[code]


@dataclass(frozen=True)
class ImageFile:
    content: bytes
    format: str  # one of constants.IMAGE_FORMATS

    @property
    def content_type(self) -> str:
        return f"image/{self.format}"

    @property
    def filename(self) -> str:
        return "image.jpg" if self.format == "jpeg" else "image.png"

    @property
    def size(self) -> int:
        return len(self.content)


def sniff_format(head: bytes) -> str | None:
    """The image format from the file's magic bytes: "jpeg", "png", or None for anything else."""
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(PNG_MAGIC):
        return "png"
    return None


def _judge(content: bytes, *, max_bytes: int) -> ImageFile:
    if len(content) > max_bytes:
        raise ImageError("image_too_large")
    image_format = sniff_format(content[:16])
    if image_format is None:
        raise ImageError("image_format_unsupported")
    return ImageFile(content=content, format=image_format)


def read_upload(upload: UploadedFile | IO[bytes], *, max_bytes: int = constants.MAX_IMAGE_BYTES) -> ImageFile:
    """An uploaded file (Django's UploadedFile or any binary file object), read up to the cap + 1 byte."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ImageError("image_too_large")
    upload.seek(0)
    return _judge(upload.read(max_bytes + 1), max_bytes=max_bytes)


# ------------------------------------------------------------------------------------------- URL fetching
def _allowed_host(host: str) -> bool:
    return netguard.host_allowed(host, settings.IMAGE_FETCH_ALLOWED_HOSTS)


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    host_header: str
    address: str  # the checked IP we connect to


def _target(url: str) -> _Target:
    """Parse, resolve and check one hop. Raises ImageError before any connection is made."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImageError("image_url_invalid") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ImageError("image_url_invalid")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ImageError("image_fetch_failed", f"The image host {host!r} could not be resolved.") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise ImageError("image_fetch_failed", f"The image host {host!r} has no address.")
    # Every address must be public: a host that resolves to one public and one private address is refused.
    if not _allowed_host(host) and not all(netguard.is_public(a) for a in addresses):
        logger.info("tiktok.image.url_forbidden", extra={"host": host})
        raise ImageError("image_url_forbidden")
    return _Target(
        scheme=parts.scheme,
        host=host,
        port=port,
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        host_header=parts.netloc,
        address=str(addresses[0]),
    )


class _HTTPPool(WatchedPoolMixin, urllib3.HTTPConnectionPool):
    pass


class _HTTPSPool(WatchedPoolMixin, urllib3.HTTPSConnectionPool):
    pass


def _pool(target: _Target, timeout: float) -> urllib3.HTTPConnectionPool:
    pool: urllib3.HTTPConnectionPool
    common: dict[str, Any] = {
        "port": target.port,
        "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "maxsize": 1,
    }
    if target.scheme == "https":
        # Connect to the checked IP but verify the certificate (and send SNI) for the host name.
        pool = _HTTPSPool(
            target.address,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **common,
        )
    else:
        pool = _HTTPPool(target.address, **common)
    return pool


def _read_capped(response: Any, *, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ImageError("image_too_large")
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = response.read(min(CHUNK_BYTES, max_bytes + 1 - total), decode_content=False)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if time.monotonic() > deadline:
            raise ImageError("image_fetch_failed", TOO_SLOW)
    if total > max_bytes:
        raise ImageError("image_too_large")
    return b"".join(chunks)


_fetches_lock = threading.Lock()
_fetches: dict[object, int] = {}


@contextlib.contextmanager
def fetch_slot(key: object) -> Iterator[None]:
    """One of the few concurrent image downloads `key` (a project) may run in this process; ImageFetchesBusyError
    when they are all taken. A slow image host then holds at most that many of a process's web threads, whoever
    sends: the other tenants' calls and TikTok's webhooks keep being answered."""
    limit = settings.IMAGE_FETCH_CONCURRENCY_PER_PROJECT
    with _fetches_lock:
        if _fetches.get(key, 0) >= limit:
            raise ImageFetchesBusyError(key)
        _fetches[key] = _fetches.get(key, 0) + 1
    try:
        yield
    finally:
        with _fetches_lock:
            _fetches[key] -= 1
            if not _fetches[key]:
                del _fetches[key]


def fetch_image(url: str, *, max_bytes: int = constants.MAX_IMAGE_BYTES, timeout: float | None = None) -> ImageFile:
    """Download an image the bot gave by URL, safely (see the module's docstring). Raises ImageError.

    `timeout` bounds the whole fetch (every hop, headers and body), not each read."""
    timeout = timeout or settings.IMAGE_FETCH_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    with Deadline(timeout) as watchdog:
        for _hop in range(MAX_REDIRECTS + 1):
            target = _target(url)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or watchdog.expired:
                raise ImageError("image_fetch_failed", TOO_SLOW)
            pool = _pool(target, remaining)
            response = None
            try:
                response = pool.urlopen(
                    "GET",
                    target.path,
                    headers={
                        "Host": target.host_header,
                        "Accept": "image/jpeg, image/png",
                        "Accept-Encoding": "identity",
                    },
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    assert_same_host=False,
                )
                watchdog.watch_response(response)
                if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status != 200:
                    raise ImageError("image_fetch_failed", f"The image URL answered HTTP {response.status}.")
                content = _read_capped(response, max_bytes=max_bytes, deadline=deadline)
            except urllib3.exceptions.HTTPError as exc:
                if watchdog.expired:
                    raise ImageError("image_fetch_failed", TOO_SLOW) from exc
                logger.info("tiktok.image.fetch_failed", extra={"host": target.host, "error": type(exc).__name__})
                raise ImageError(
                    "image_fetch_failed", f"The image could not be downloaded ({type(exc).__name__})."
                ) from exc
            finally:
                if response is not None:
                    response.close()  # drop the connection: never drain an oversized body
                pool.close()
            if watchdog.expired:  # the shutdown may read as the end of a body without Content-Length
                raise ImageError("image_fetch_failed", TOO_SLOW)
            return _judge(content, max_bytes=max_bytes)
    raise ImageError("image_too_many_redirects")
