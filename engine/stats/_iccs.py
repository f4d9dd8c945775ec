"""The UNODC ICCS v1.0 codelist (levels 1 and 2) with its titles in the four languages, read from
``engine/data/iccs.csv``: English titles as published by UNODC, Spanish and French after UNODC's translations,
Portuguese a legal translation. Kept as data so that the statistics, the observatory's reports and the SDMX
codelist (docs/observatory.md) all name a category the same way."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files

LANGUAGES = ("en", "es", "pt", "fr")


@cache
def iccs_codelist() -> dict[str, dict[str, str]]:
    """``{"0101": {"en": "Intentional homicide", "es": …}, …}`` in the order of the classification."""
    text = files("engine").joinpath("data/iccs.csv").read_text(encoding="utf-8")
    return {row["code"]: {lang: row[lang] for lang in LANGUAGES} for row in csv.DictReader(io.StringIO(text))}


def iccs_title(code: str, lang: str) -> str | None:
    """The title of an ICCS level-1 or level-2 code in ``lang`` (English for another language), or None."""
    titles = iccs_codelist().get(code)
    if titles is None:
        return None
    # The classification's Portuguese titles serve both varieties (UNODC publishes one Portuguese version).
    return titles.get(lang) or titles.get(lang.split("_")[0]) or titles["en"]


def iccs_label(code: str, lang: str) -> str:
    """``"0701 — Fraud"``; an unknown level-2 code falls back to its level-1 title: ``"0799 (Acts involving …)"``."""
    title = iccs_title(code, lang)
    if title is not None:
        return f"{code} — {title}"
    parent = iccs_title(code[:2], lang) if len(code) > 2 else None
    return f"{code} ({parent})" if parent else code
