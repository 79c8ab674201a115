"""Text our databases can store: PostgreSQL's text holds no NUL, and UTF-8 (both databases) no lone UTF-16
surrogate, which JSON can carry as `\\ud800`. Writing either fails in the database: refuse it before."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

UNSTORABLE_MESSAGE = _("The text holds a NUL character or a lone UTF-16 surrogate, which cannot be stored.")


def storable_text(value: str) -> bool:
    return _UNSTORABLE.search(value) is None
