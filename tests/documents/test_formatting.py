"""Babel formatting in the document language: dates, date-times in the authority's timezone, numbers,
names."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine import formatting
from engine.i18n import UnsupportedLanguage


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", "23 de noviembre de 2026"),
        ("pt_PT", "23 de novembro de 2026"),
        ("pt_BR", "23 de novembro de 2026"),
        ("pt", "23 de novembro de 2026"),  # stored before the split: European Portuguese
        ("en", "23 November 2026"),  # British English, not "November 23, 2026"
        ("fr", "23 novembre 2026"),
    ],
)
def test_long_dates_read_like_a_court_writes_them(lang: str, expected: str) -> None:
    assert formatting.format_date("2026-11-23", lang) == expected
    assert formatting.format_date(date(2026, 11, 23), lang) == expected
    assert formatting.format_date(datetime(2026, 11, 23, 12, tzinfo=UTC), lang) == expected


def test_date_times_are_shown_on_the_authoritys_wall_clock() -> None:
    # 03:30 UTC on the 24th is still the 23rd in Bogotá (UTC-5) and already 04:30 in Madrid (UTC+1).
    moment = "2026-11-24T03:30:00Z"
    bogota = formatting.format_datetime(moment, "es", "America/Bogota")
    madrid = formatting.format_datetime(moment, "fr", "Europe/Madrid")
    assert bogota.startswith("23 de noviembre de 2026, 22:30") and "-05:00" in bogota
    assert madrid.startswith("24 novembre 2026, 04:30") and "+01:00" in madrid


def test_numbers_and_amounts_use_the_readers_separators() -> None:
    assert formatting.format_number(4200000.5, "es") == "4.200.000,5"
    assert formatting.format_number(4200000.5, "en") == "4,200,000.5"
    assert formatting.format_currency(4200000, "EUR", "es") == "4.200.000,00\xa0€"
    assert formatting.format_currency(4200000, "EUR", "en") == "€4,200,000.00"
    assert formatting.format_size(482113, "fr") == "470,8\u202fko"  # CLDR: octets, narrow no-break space
    assert formatting.format_size(482113, "en") == "470.8 kB"
    assert formatting.format_size(512, "en") == "512 bytes"
    assert formatting.format_size(3 * 1024**2, "fr") == "3\u202fMo"


def test_portuguese_varieties_format_as_their_country_does() -> None:
    # Babel's bare "pt" is Brazilian; European Portuguese groups thousands with a space.
    assert formatting.format_number(4200000.5, "pt_BR") == "4.200.000,5"
    assert formatting.format_number(4200000.5, "pt_PT") == "4\xa0200\xa0000,5"
    assert formatting.format_number(4200000.5, "pt") == formatting.format_number(4200000.5, "pt_PT")
    assert formatting.format_date("2026-11-23", "pt_BR", style="short") == "23/11/2026"
    assert formatting.format_date("2026-11-23", "en", style="short") == "23/11/2026"


@pytest.mark.parametrize(
    ("lang", "country", "language"),
    [
        ("es", "Brasil", "portugués"),
        ("pt_PT", "Brasil", "português"),
        ("pt_BR", "Brasil", "português"),
        ("en", "Brazil", "Portuguese"),
        ("fr", "Brésil", "portugais"),
    ],
)
def test_country_and_language_names_in_the_document_language(lang: str, country: str, language: str) -> None:
    assert formatting.country_name("BR", lang) == country
    assert formatting.language_name("pt", lang) == language
    assert formatting.language_name("pt_BR", lang).startswith(language + " (")
    assert formatting.country_name("ZZ9", lang) == "ZZ9"  # unknown codes are shown as given


def test_negotiation_goes_user_then_authority_then_english() -> None:
    assert formatting.negotiate_language("fr", ["es"]) == "fr"
    assert formatting.negotiate_language("de", ["pt", "es"]) == "pt_PT"
    assert formatting.negotiate_language("pt-BR", None) == "pt_BR"
    assert formatting.negotiate_language("pt-PT", None) == "pt_PT"
    assert formatting.negotiate_language("pt", None) == "pt_PT"  # documented: bare pt is European
    assert formatting.negotiate_language(["de", "pt-br"], ["es"]) == "pt_BR"
    assert formatting.negotiate_language("en-US", None) == "en"
    assert formatting.negotiate_language(None, ["nl", "de"]) == "en"
    assert formatting.negotiate_language(None, None) == "en"


def test_unsupported_formatting_language_names_the_supported_ones() -> None:
    with pytest.raises(UnsupportedLanguage, match="es, pt_PT, pt_BR, en, fr"):
        formatting.format_date("2026-11-23", "de")


def test_high_punctuation_is_spaced_the_way_each_language_does() -> None:
    assert [formatting.punctuation(mark, "fr") for mark in ":;?!"] == ["\u202f:", "\u202f;", "\u202f?", "\u202f!"]
    assert [formatting.punctuation(mark, "es") for mark in ":;?!"] == [":", ";", "?", "!"]
    assert formatting.with_colon("Pays", "fr") == "Pays\u202f:"
    with pytest.raises(ValueError):
        formatting.punctuation(",", "fr")
