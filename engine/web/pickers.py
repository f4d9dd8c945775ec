"""Pickers of the request editor: countries, languages and ICCS offence codes named in the reader's language.

Each picker posts the code the schema stores, so the server validates exactly what it validated before; the
lists only spare the clerk from knowing ISO 3166, ISO 639-1 or ICCS by heart. Countries and languages are
``<select>`` lists (CLDR names through Babel, sorted for the reader, type-ahead works without JavaScript);
ICCS codes are an ``<input list>`` with a ``<datalist>`` whose entries read ``0101 — Homicidio intencional``,
searchable by code or by title, and :func:`iccs_code` turns a chosen entry back into its code.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from engine import formatting
from engine.forms._formats import countries, languages
from engine.stats._iccs import iccs_codelist, iccs_label

# The schema formats (common.schema.json) a picker serves.
COUNTRY = "iso3166-alpha2"
LANGUAGE = "iso639-1"
ICCS = "iccs"
_LEADING_CODE = re.compile(r"^\s*(\d{2,6})(?:\s|$|\s*[—-])")


def _sort_key(text: str) -> str:
    """Alphabetical order as a reader expects it: accents and case do not move a name ("Ísland" near "Irlanda")."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


@cache
def country_options(lang: str) -> tuple[tuple[str, str], ...]:
    """``(code, name)`` of every country the schema accepts, by name in ``lang``."""
    named = [(code, formatting.country_name(code, lang)) for code in countries()]
    return tuple(sorted(named, key=lambda item: _sort_key(item[1])))


@cache
def language_options(lang: str) -> tuple[tuple[str, str], ...]:
    """``(code, name)`` of every ISO 639-1 language the schema accepts, by name in ``lang``."""
    named = [(code, formatting.language_name(code, lang)) for code in languages()]
    return tuple(sorted(named, key=lambda item: _sort_key(item[1])))


def options(picker: str, lang: str) -> list[tuple[str, str]]:
    return list(country_options(lang) if picker == COUNTRY else language_options(lang))


@cache
def iccs_entries(lang: str) -> tuple[str, ...]:
    """The datalist entries: ``"0101 — Homicidio intencional"``, in the classification's order."""
    return tuple(iccs_label(code, lang) for code in iccs_codelist())


def iccs_shown(code: str, lang: str) -> str:
    """What the ICCS input shows for a stored code (the code alone when it is not one of the classification's)."""
    return iccs_label(code, lang) if code in iccs_codelist() else code


def iccs_code(raw: str) -> str:
    """The code of what was typed or chosen: ``"0101 — Homicidio intencional"`` → ``"0101"``; a title alone in any
    of the classification's languages → its code; anything else unchanged (validation then names the field)."""
    match = _LEADING_CODE.match(raw)
    if match:
        return match.group(1)
    wanted = _sort_key(raw.strip())
    for code, titles in iccs_codelist().items():
        if any(_sort_key(title) == wanted for title in titles.values()):
            return code
    return raw
