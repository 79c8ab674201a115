"""Option parsing shared by the staff's management commands."""

import datetime as dt
import re

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """`30m`, `24h`, `7d` (that long ago) or an ISO 8601 moment (UTC when no offset is given)."""
    match = _DURATION.match(value.strip())
    if match:
        return (now or timezone.now()) - dt.timedelta(**{_UNITS[match[2]]: int(match[1])})
    moment = parse_datetime(value.strip())
    if moment is None:
        raise CommandError(f"--since: {value!r} is neither a duration (30m, 24h, 7d) nor an ISO 8601 date-time.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)
