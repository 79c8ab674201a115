"""Country names for the registered-country question (R4), in the active language (Babel's CLDR data)."""

from functools import cache

from babel import Locale, UnknownLocaleError
from django.utils.translation import get_language

# CLDR territories that are not ISO 3166-1 countries an account can be registered in.
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"})


@cache
def _territories(language: str) -> dict[str, str]:
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def country_name(code: str, *, language: str | None = None) -> str:
    """The country's name in `language` (default: the active one); the code itself when unknown."""
    code = (code or "").upper()
    return _territories(language or get_language() or "en").get(code, code)


def country_choices(*, language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of every country, sorted by name in `language`."""
    names = _territories(language or get_language() or "en")
    return sorted(names.items(), key=lambda item: item[1].casefold())


def is_country(code: str) -> bool:
    return (code or "").upper() in _territories("en")
