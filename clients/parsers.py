"""The API's JSON parser: DRF's, refusing documents nested deeper than any request needs (400
`malformed_request`, never a RecursionError's 500)."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from . import json_limits


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]  # missing from the stubs; refuses non-text codecs (bz2_codec...)
        parse_constant = json.strict_constant if self.strict else None
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json_limits.loads(text, parse=json.loads, parse_constant=parse_constant)
        except json_limits.TooDeepError as exc:
            raise ParseError(_("The JSON document is nested too deeply.")) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
