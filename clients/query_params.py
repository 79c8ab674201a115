"""Numbers from URLs and query strings, read as the database can take them.

`"¹".isdigit()` is True and `int("¹")` fails; `int("9" * 5000)` fails on Python's digit limit; a number beyond
64 bits overflows SQLite's INTEGER. `database_id` accepts only what every backend can compare against an id.
"""

from __future__ import annotations

# The largest value of a signed 64-bit integer: PostgreSQL's bigint and SQLite's INTEGER.
MAX_DATABASE_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_DATABASE_ID))


def ascii_digits(value: str, *, max_digits: int = _MAX_DIGITS) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= max_digits


def database_id(value: object) -> int | None:
    """`value` (an int, or ASCII digits) as an int within a 64-bit id's range, or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and ascii_digits(value):
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_DATABASE_ID else None
