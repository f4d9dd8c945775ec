"""locales/glossary.csv is the reference for legal terms: the catalogs and the schemas' titles follow it.

Rows of kind ``term`` give, per locale, a regular expression (case-insensitive) for the term; wherever the English
expression matches a msgid (or a schema ``title``), the translation must match the locale's expression. ``msgctxt``
narrows a row to one context. ``rejected`` lists ``locale:expression`` pairs that must appear nowhere in that
locale's catalog and schema titles (rows scoped to "documents from the requested side" are checked on rendered
documents, in tests/documents/test_legal_language.py). Rows of kind ``title`` give each instrument's official
title: the catalog translates the English title to exactly that text.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from engine.documents._labels import ENUM_LABELS
from engine.i18n import DOMAIN, LANGUAGES, localized, translate
from engine.observatory.labels import INSTRUMENTS

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "locales" / "glossary.csv"
SCHEMAS = sorted((ROOT / "forms" / "schemas").rglob("*.schema.json"))
NOT_TREATIES = {"BILATERAL", "RECIPROCITY"}
# Kept only so that requests stored under schema request v1 still render (see docs/forms.md).
WITHDRAWN = {"IBERAMERICAN_MLA_2010"}


def _rows(kind: str) -> list[dict[str, str]]:
    with GLOSSARY.open(encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["kind"] == kind]


def _catalog(lang: str) -> Catalog:
    with (ROOT / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _messages(lang: str) -> Iterator[tuple[str | None, str, str]]:
    for message in _catalog(lang):
        if message.id and isinstance(message.id, str) and isinstance(message.string, str):
            yield message.context, message.id, message.string


def _titles(node: Any, where: str = "") -> Iterator[tuple[str, str, dict[str, str]]]:
    """Every (pointer, English title, per-language titles) of a schema or profile, enum titles included."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str) and isinstance(node.get("x-title"), dict):
            yield where, node["title"], node["x-title"]
        for value, titles in (node.get("x-enum-titles") or {}).items():
            if isinstance(titles, dict) and "en" in titles:
                yield f"{where}/{value}", titles["en"], titles
        for key, value in node.items():
            yield from _titles(value, f"{where}/{key}")
    elif isinstance(node, list):
        for number, value in enumerate(node):
            yield from _titles(value, f"{where}/{number}")


def _schema_titles() -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for path in [*SCHEMAS, ROOT / "forms" / "profiles.json"]:
        found += [(f"{path.name}{where}", en, titles)
                  for where, en, titles in _titles(json.loads(path.read_text(encoding="utf-8")))]
    return found


def _rejected(row: dict[str, str], lang: str) -> list[str]:
    pairs = [item.split(":", 1) for item in row["rejected"].split("|") if item]
    return [expression for locale, expression in pairs if locale == lang]


def test_glossary_rows_are_complete() -> None:
    terms, titles = _rows("term"), _rows("title")
    assert terms and titles
    for row in terms + titles:
        assert row["source"] or row["notes"], row["concept"]
        for lang in LANGUAGES:
            if row[lang]:
                re.compile(row[lang])
    for row in titles:
        assert all(row[lang] for lang in LANGUAGES), row["concept"]
        assert row["source"], row["concept"]


def test_every_instrument_offered_is_in_the_glossary_and_nothing_else() -> None:
    glossary = {row["concept"].removeprefix("instrument.") for row in _rows("title")}
    request = json.loads((ROOT / "forms" / "schemas" / "request.schema.json").read_text(encoding="utf-8"))
    offered = set(request["properties"]["legal_basis"]["properties"]["instrument"]["enum"]) - NOT_TREATIES
    profiles = json.loads((ROOT / "forms" / "profiles.json").read_text(encoding="utf-8"))
    in_profiles = {code for profile in profiles["profiles"] for code in profile.get("instruments", [])}
    labelled = {code for labels in ENUM_LABELS if "EIO" in labels for code in labels} - NOT_TREATIES - WITHDRAWN
    assert offered == glossary == labelled
    assert in_profiles - NOT_TREATIES <= glossary
    assert set(INSTRUMENTS) - NOT_TREATIES == glossary
    assert not WITHDRAWN & (offered | in_profiles | set(INSTRUMENTS))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_instruments_carry_their_official_titles(lang: str) -> None:
    labels = next(labels for labels in ENUM_LABELS if "EIO" in labels)
    for row in _rows("title"):
        code = row["concept"].removeprefix("instrument.")
        assert labels[code] == row["en"], code
        assert translate(lang, labels[code]) == row[lang], (lang, code)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_catalog_uses_the_glossary_term_wherever_the_concept_appears(lang: str) -> None:
    wrong = []
    for row in _rows("term"):
        if not row["en"] or not row[lang]:
            continue
        english = re.compile(row["en"], re.IGNORECASE)
        term = re.compile(row[lang], re.IGNORECASE)
        for context, msgid, msgstr in _messages(lang):
            if row["msgctxt"] and context != row["msgctxt"]:
                continue
            if not row["msgctxt"] and row["en"].startswith("^") and context:
                continue  # an exact term without context names the context-free entry only
            if english.search(msgid) and not term.search(msgstr):
                wrong.append((row["concept"], context, msgid, msgstr))
    assert not wrong, "\n".join(map(str, wrong))


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_schema_titles_use_the_glossary_term(lang: str) -> None:
    wrong = []
    for row in _rows("term"):
        if not row["en"] or not row[lang] or row["msgctxt"]:
            continue
        english = re.compile(row["en"], re.IGNORECASE)
        term = re.compile(row[lang], re.IGNORECASE)
        for where, en, titles in _schema_titles():
            shown = str(localized(titles, lang))
            if english.search(en) and not term.search(shown):
                wrong.append((row["concept"], where, en, shown))
    assert not wrong, "\n".join(map(str, wrong))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_rejected_terms_appear_nowhere(lang: str) -> None:
    found = []
    for row in _rows("term"):
        if row["scope"] != "catalogs and schemas":
            continue
        for expression in _rejected(row, lang):
            pattern = re.compile(expression, re.IGNORECASE)
            found += [(row["concept"], msgid, msgstr) for _, msgid, msgstr in _messages(lang)
                      if pattern.search(msgstr)]
            found += [(row["concept"], where, localized(titles, lang)) for where, _, titles in _schema_titles()
                      if pattern.search(str(localized(titles, lang)))]
    assert not found, "\n".join(map(str, found))


def test_every_term_row_checks_something() -> None:
    """A row whose English expression (in its context) matches no msgid and no schema title tests nothing: a
    renamed msgid or context would let a mix of terms back in unnoticed."""
    idle = []
    messages = list(_messages("fr"))
    titles = _schema_titles()
    for row in _rows("term"):
        if row["scope"] != "catalogs and schemas" or not row["en"]:
            continue
        english = re.compile(row["en"], re.IGNORECASE)
        in_catalog = any(english.search(msgid) for context, msgid, _ in messages
                         if not row["msgctxt"] or context == row["msgctxt"])
        in_schemas = not row["msgctxt"] and any(english.search(en) for _, en, _ in titles)
        if not (in_catalog or in_schemas):
            idle.append(row["concept"])
    assert not idle, idle

