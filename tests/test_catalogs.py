"""The gettext catalogs in locales/ are complete and in sync, for the whole project (not only one module).

For every language: every msgid of the template has a non-empty, non-fuzzy translation; ``{placeholders}`` are
the same in msgid and msgstr; the committed .mo holds exactly the messages, translations and plural forms of
the committed .po; and the template is up to date with the code (nothing marked with N_/_ is missing from it).
Fix failures with ``make catalogs`` and then fill in the empty msgstrs (see docs/forms.md).
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from engine.i18n import DOMAIN, LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
POT = LOCALES / f"{DOMAIN}.pot"


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _po(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id for m in catalog if m.id and isinstance(m.id, str)}


def test_template_is_up_to_date_with_the_code() -> None:
    # Same extraction as `make catalogs`: babel.cfg's patterns, keywords N_ and _.
    method_map = [(pattern, method) for method, pattern in _babel_cfg()]
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            ROOT, method_map=method_map,
            keywords={"N_": None, "_": None, "C_": ((1, "c"), 2), "pgettext": ((1, "c"), 2)},
        )
        if isinstance(message, str)
    }
    missing = sorted(found - _ids(_catalog(POT)))
    contexts = {
        (context, message)
        for _, _, message, _, context in extract_from_dir(
            ROOT, method_map=method_map, keywords={"C_": ((1, "c"), 2), "pgettext": ((1, "c"), 2)}
        )
        if context
    }
    known = {(m.context, m.id) for m in _catalog(POT) if m.context}
    assert not sorted(contexts - known), f"run `make catalogs`; contexts missing: {sorted(contexts - known)}"
    assert not missing, f"run `make catalogs`; not in {POT.name}: {missing}"


def _babel_cfg() -> list[tuple[str, str]]:
    sections = re.findall(r"^\[(\w+):\s*(.+?)\]\s*$", (ROOT / "babel.cfg").read_text(), re.MULTILINE)
    return [(method, pattern) for method, pattern in sections]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_msgid_translated(lang: str) -> None:
    template = _ids(_catalog(POT))
    catalog = _catalog(_po(lang), lang)
    messages = {m.id: m for m in catalog if m.id}
    absent = sorted(template - set(messages))
    empty = sorted(i for i in template & set(messages) if not messages[i].string)
    fuzzy = sorted(i for i in template & set(messages) if messages[i].fuzzy)
    assert not absent, f"{lang}: not in the .po (run `make catalogs`): {absent}"
    assert not empty, f"{lang}: untranslated: {empty}"
    assert not fuzzy, f"{lang}: fuzzy: {fuzzy}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match(lang: str) -> None:
    wrong = [
        (m.id, m.string)
        for m in _catalog(_po(lang), lang)
        if m.id and isinstance(m.id, str) and m.string and _placeholders(m.id) != _placeholders(m.string)
    ]
    assert not wrong, wrong


def _entries(catalog: Catalog) -> dict[object, object]:
    """What a reader of the catalog gets: each msgid (with its context) and its translation(s)."""
    return {(m.context, m.id): m.string for m in catalog if m.id and not m.fuzzy}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_is_current(lang: str) -> None:
    # Compare what matters, not bytes: the header a tool writes (``Generated-By: Babel x.y``) changes with the
    # tool's version, so a byte comparison breaks a clean checkout whenever Babel is released.
    source = _catalog(_po(lang), lang)
    with _po(lang).with_suffix(".mo").open("rb") as fh:
        compiled = read_mo(fh)
    assert _entries(compiled) == _entries(source), f"{lang}: .mo is stale, run `make catalogs`"
    assert compiled.plural_forms == source.plural_forms, f"{lang}: plural forms differ, run `make catalogs`"
