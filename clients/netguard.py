"""Which network addresses our server may connect to on a user's behalf (SSRF guard), for every URL a tenant gives:
the bot's image URLs (the TikTok channel) and the project's callback URL (bot event pushes).

An address is public when it is globally routable and not multicast, judged on the IPv4 address an IPv6 form
carries when it carries one: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`
well-known prefix), 6to4 (`2002::/16`) and Teredo. Python's `is_global` judges those forms by their IPv6 prefix,
so `[::127.0.0.2]` or `[64:ff9b::7f00:2]` would pass as public while they reach loopback. The local-use NAT64
prefix (`64:ff9b:1::/48`) can embed an address anywhere: refused outright.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class UnsafeURLError(Exception):
    """A URL we will not connect to. `reason`: "invalid" (not http(s) with a host), "forbidden" (a non-public
    address) or "unresolvable"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo), or None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False  # a link-scoped address (fe80::1%eth0)
        if address in NAT64_LOCAL_USE:
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast


def host_allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    return host.lower() in {h.lower() for h in allowed_hosts}


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to. Raises UnsafeURLError("unresolvable")."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeURLError("unresolvable", f"The host {host!r} could not be resolved.") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeURLError("unresolvable", f"The host {host!r} has no address.")
    return addresses


def check_url(url: str, *, allowed_hosts: Iterable[str] = (), resolve_host: bool = True) -> list[IPAddress]:
    """Refuse (UnsafeURLError) a URL that is not http(s) with a host, or whose host is, or resolves to, any
    non-public address; hosts in `allowed_hosts` skip the address check. Returns the checked addresses (empty for
    an allowed host, or when `resolve_host` is False and the host is a name)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURLError("invalid", "Not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise UnsafeURLError("invalid", "Not an http(s) URL with a host name.")
    host = parts.hostname
    if host_allowed(host, allowed_hosts):
        return []
    try:
        addresses = [ipaddress.ip_address(host.split("%", 1)[0])]
        if "%" in host:
            raise UnsafeURLError("forbidden", "A link-scoped address is not allowed.")
    except ValueError:
        if not resolve_host:
            return []
        addresses = resolve(host, port)
    # Every address must be public: a host that resolves to one public and one private address is refused.
    if not all(is_public(a) for a in addresses):
        raise UnsafeURLError("forbidden", "The URL points to a private, loopback, link-local or reserved address.")
    return addresses


CALLBACK_FORBIDDEN_MESSAGE = _(
    "The callback URL points to a private, loopback, link-local or reserved address; bot events are only pushed "
    "to public addresses."
)


def validate_callback_url(value: str) -> None:
    """The model's validator of a project's callback URL (admin and any form): refuses an address, or a host
    resolving to one, that is not public. A host that does not resolve now is accepted: the push checks again."""
    if not value:
        return
    try:
        check_url(value, allowed_hosts=settings.CALLBACK_ALLOWED_HOSTS)
    except UnsafeURLError as exc:
        if exc.reason == "forbidden":
            raise ValidationError(CALLBACK_FORBIDDEN_MESSAGE, code="callback_url_forbidden") from exc
        if exc.reason == "invalid":
            raise ValidationError(_("Enter an http(s) URL with a host name."), code="invalid") from exc
