"""The string formats the forms assert, each defined once for the two validators that read them.

The project's own formats (code lists, ``uri``, ``email``) are regular expressions written in the syntax that
Python's ``re`` and Rust's ``regex`` read alike (no ``\\s``: the two disagree on which characters are spaces). The
forms' validator (jsonschema-rs) checks them as ``pattern`` keywords that :mod:`engine.forms._compile` puts in place
of the ``format``; jsonschema, the reference in tests and benchmarks, checks them as format checkers with
``re.fullmatch``. ``date`` and ``date-time`` are RFC 3339 in both libraries, narrowed for jsonschema-rs to what
Python's ``date``/``datetime`` can read (no year 0000, no leap second), because the engine reads them later.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from babel import Locale

if TYPE_CHECKING:  # jsonschema is only the reference: the engine itself never imports it
    from jsonschema import FormatChecker

# ISO code lists come from Babel's CLDR data (already a dependency) so no list is maintained by hand.
_NOT_COUNTRIES = {"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"}
_CONTROLS_AND_SPACE = r"\x00-\x20\x7f"


@cache
def countries() -> frozenset[str]:
    return frozenset(
        c for c in Locale("en").territories if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES
    )


@cache
def languages() -> frozenset[str]:
    return frozenset(c for c in Locale("en").languages if len(c) == 2 and c.isalpha())


@cache
def currencies() -> frozenset[str]:
    """ISO 4217 codes as Babel's CLDR data knows them, without the codes reserved for testing (XTS) and for
    "no currency" (XXX), which never measure an amount."""
    from babel.numbers import list_currencies

    return frozenset(c for c in list_currencies() if len(c) == 3 and c.isalpha() and c.isupper()) - {"XTS", "XXX"}


@cache
def format_patterns() -> dict[str, str]:
    """Format name → the unanchored regular expression a whole string must match."""
    return {
        "iso3166-alpha2": "|".join(sorted(countries())),
        "iso639-1": "|".join(sorted(languages())),
        "iso4217": "|".join(sorted(currencies())),
        # RFC 3986 generic syntax: a scheme, then nothing that must be escaped (space, controls, <>"{}|\^`).
        "uri": rf"[A-Za-z][A-Za-z0-9+.\-]*:[^{_CONTROLS_AND_SPACE}<>\"{{}}|\\^`]*",
        # One "@" between two non-empty parts without spaces: enough to catch a name typed in the wrong field,
        # without rejecting the internationalized addresses a stricter grammar would.
        "email": rf"[^@{_CONTROLS_AND_SPACE}]+@[^@{_CONTROLS_AND_SPACE}]+",
    }


# RFC 3339 allows year 0000 and second 60; Python's date and datetime do not, and jsonschema's checkers follow
# Python. Checked by jsonschema-rs as a pattern beside its own format check.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
NARROWED = {
    "date": f"^{_YEAR}-",
    "date-time": f"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}[Tt][0-9]{{2}}:[0-9]{{2}}:[0-5][0-9]",
}


@cache
def schema_patterns() -> dict[str, str]:
    """Format name → the JSON Schema ``pattern`` that checks it (or narrows the native check, see NARROWED)."""
    replaced = {name: f"^(?:{pattern})$" for name, pattern in format_patterns().items()}
    return {**replaced, **NARROWED}


@cache
def format_checker() -> FormatChecker:
    """jsonschema's checker for the same formats: its own for date and date-time, ours for the rest."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=("date", "date-time"))
    for name, pattern in format_patterns().items():
        checker.checks(name)(_fullmatch(re.compile(pattern)))
    return checker


def _fullmatch(pattern: re.Pattern[str]) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        # "format" only constrains strings.
        return not isinstance(value, str) or pattern.fullmatch(value) is not None

    return check
