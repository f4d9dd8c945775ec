"""Locale-aware formatting with Babel: what a document or an e-mail shows to a reader of es/pt/en/fr.

Dates are written the way a court writes them ("23 de noviembre de 2026", "23 novembre 2026"), date-times are
shown in the timezone of the authority the reader belongs to, and country and language names come from CLDR in
the reader's language, so no list is translated by hand.

>>> format_date("2026-11-23", "es")
'23 de noviembre de 2026'
>>> format_date("2026-11-23", "fr")
'23 novembre 2026'
>>> format_date("2026-12-01", "fr")
'1er décembre 2026'
>>> with_colon("Date", "fr")
'Date\u202f:'
>>> punctuation(";", "fr") + " " + punctuation(";", "es")
'\u202f; ;'
>>> country_name("CO", "pt")
'Colômbia'
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers

from engine.i18n import DEFAULT_LANGUAGE, check_language, is_language, locale, negotiate

__all__ = [
    "country_name",
    "format_currency",
    "format_date",
    "format_datetime",
    "format_number",
    "format_size",
    "language_name",
    "negotiate_language",
    "parse_date",
    "parse_datetime",
    "punctuation",
    "with_colon",
    "field_separator",
]

# Typography CLDR's patterns carry implicitly but Babel does not expose as data: French sets a narrow no-break space
# (U+202F) before the high punctuation marks ":", ";", "?" and "!", and writes the first day of a month as an
# ordinal ("1er décembre"). The day's ordinal category comes from CLDR's ordinal plural rules (Locale.ordinal_form);
# the suffix per category is French usage (CLDR's "digits-ordinal" rule set, which Babel does not ship).
_BEFORE_COLON = {"fr": "\u202f"}
_HIGH_PUNCTUATION = frozenset(":;?!")
_DAY_ORDINAL_SUFFIX = {"fr": {"one": "er"}}


def punctuation(mark: str, lang: str) -> str:
    """A high punctuation mark (``:``, ``;``, ``?``, ``!``) with the space ``lang`` sets before it, if any."""
    if mark not in _HIGH_PUNCTUATION:
        raise ValueError(f"not a high punctuation mark: {mark!r}")
    return f"{_BEFORE_COLON.get(lang, '')}{mark}"


def with_colon(label: str, lang: str) -> str:
    """``label`` followed by a colon as ``lang`` writes it ("Date:", "Date\u202f:")."""
    return f"{label}{punctuation(':', lang)}"


def field_separator(lang: str) -> str:
    """Between the fields of one line ("Pays: Portugal; Nom: …"): "; " as ``lang`` writes it ("\u202f; " in French)."""
    return f"{punctuation(';', lang)} "


def parse_date(value: date | datetime | str) -> date:
    """A :class:`date` from a ``date``, a ``datetime`` (its calendar date) or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10]) if "T" in value else date.fromisoformat(value)


def parse_datetime(value: datetime | str) -> datetime:
    """An aware :class:`datetime` from a value or an RFC 3339 string (``Z`` accepted); naive means UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_date(value: date | datetime | str, lang: str, *, style: str = "long") -> str:
    """``style``: ``long`` (23 de noviembre de 2026), ``medium`` or ``short`` (23/11/26)."""
    day, loc = parse_date(value), locale(lang)
    suffix = _DAY_ORDINAL_SUFFIX.get(lang, {}).get(loc.ordinal_form(day.day))
    if suffix and style in ("long", "full"):
        pattern = str(babel_dates.get_date_format(style, locale=loc).pattern)
        if pattern.startswith("d ") or " d " in pattern:
            return babel_dates.format_date(day, format=pattern.replace("d", f"d'{suffix}'", 1), locale=loc)
    return babel_dates.format_date(day, format=style, locale=loc)


def format_datetime(value: datetime | str, lang: str, timezone: str = "UTC", *, style: str = "long") -> str:
    """A moment as the reader's authority sees it on its wall clock, with the zone named (e.g. ``-0500``).

    ``long`` drops the seconds: "23 de noviembre de 2026, 5:05 (-05:00)" reads better in a legal document
    than CLDR's own long time format.
    """
    moment = parse_datetime(value).astimezone(ZoneInfo(timezone))
    loc = locale(lang)
    if style != "long":
        return babel_dates.format_datetime(moment, format=style, tzinfo=ZoneInfo(timezone), locale=loc)
    day = format_date(moment.date(), lang)
    clock = babel_dates.format_time(moment, format="short", tzinfo=ZoneInfo(timezone), locale=loc)
    offset = babel_dates.get_timezone_gmt(moment, width="iso8601", locale=loc)
    return f"{day}, {clock} ({offset} {timezone})"


def format_number(value: int | float | Decimal, lang: str) -> str:
    return babel_numbers.format_decimal(value, locale=locale(lang))


def format_currency(value: int | float | Decimal | str, currency: str, lang: str) -> str:
    """``4200000, "EUR"`` → "4.200.000,00 €" (es), "€4,200,000.00" (en)."""
    return babel_numbers.format_currency(Decimal(str(value)), currency, locale=locale(lang))


def format_size(size: int, lang: str) -> str:
    """A file size with CLDR's unit symbol for the reader ("1,5 MB", "1,5 Mo", "1.5 MB"), below 1 kB in bytes.

    The symbols and the space between number and unit (a no-break space in French) come from CLDR's short unit
    patterns through :func:`babel.units.format_unit`, so French gets "ko/Mo" (octets) with nothing hard-coded.
    """
    from babel.units import format_unit

    loc = locale(lang)
    if size < 1024:
        # CLDR's short byte is invariable in English ("500 byte"); the long form agrees in number.
        return format_unit(size, "digital-byte", length="long", locale=loc)
    for unit, factor in (("digital-kilobyte", 1024), ("digital-megabyte", 1024**2), ("digital-gigabyte", 1024**3)):
        if size < factor * 1024 or unit == "digital-gigabyte":
            return format_unit(size / factor, unit, length="short", format="#,##0.#", locale=loc)
    raise AssertionError("unreachable")


def country_name(code: str, lang: str) -> str:
    """CLDR name of an ISO 3166-1 alpha-2 country in ``lang``; an unknown code is returned unchanged."""
    return locale(lang).territories.get(code.upper(), code)


def language_name(code: str, lang: str) -> str:
    """CLDR name of an ISO 639-1 language in ``lang`` (e.g. ``pt`` in French: "portugais")."""
    from babel import Locale, UnknownLocaleError

    # A variety named as such ("português (Brasil)"); a bare ISO 639-1 code (an interpreter's language, a request
    # stored before the Portuguese split) keeps its plain name.
    if ("_" in code or "-" in code) and is_language(code):
        try:
            return str(Locale.parse(check_language(code)).get_display_name(locale(lang)))
        except (UnknownLocaleError, ValueError):
            pass
    return locale(lang).languages.get(code.lower(), code)


def negotiate_language(
    user: str | Iterable[str] | None = None, authority: Iterable[str] | None = None
) -> str:
    """The language to address someone in: the user's preference, else the first supported language of their
    authority, else English. Never raises: unsupported preferences are skipped."""
    chosen = negotiate(user, authority)
    return check_language(chosen) if chosen else DEFAULT_LANGUAGE
