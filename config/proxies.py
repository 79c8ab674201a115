"""The address a request came from, for the throttles and the admin's login lockout.

X-Forwarded-For is written by whoever sends the request: only the entries appended by our own proxies can be
trusted. TRUSTED_PROXY_COUNT says how many proxies stand in front of the service; 0 (the default) ignores the
header and uses the connection's address.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The connection's address, or with N trusted proxies the Nth address of X-Forwarded-For from the right
    (each proxy appends the address it received the request from; anything left of that is the client's claim)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]
