"""The ICCS codelist (engine/data/iccs.csv): complete in the four languages, the same in docs/observatory.md,
covering every code the project uses, and shown with its titles in stats and the observatory's reports."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from engine.observatory import Published, parse_period, render
from engine.observatory.figures import BREAKDOWNS, TIME_BINS, Row
from engine.observatory.labels import category_label
from engine.observatory.periods import SDMX_FREQ
from engine.observatory.sdmx import BREAKDOWN_CODES, DIRECTION_CODES, INDICATORS
from engine.stats import iccs_codelist, iccs_label, iccs_level1
from engine.stats._facts import ASSET_FLOWS, ASSET_KINDS, iccs_level2
from engine.stats._output import OUTCOME_LABELS, key_label
from tests.stats.generate import ICCS as GENERATED_CODES

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "observatory.md").read_text(encoding="utf-8")
LANGUAGES = ("en", "es", "pt", "fr")
# UNODC ICCS v1.0: the level-2 divisions of each level-1 section ("other" divisions end in 9).
LEVEL2 = {
    "01": ("0101", "0102", "0103", "0104", "0105", "0106", "0107", "0109"),
    "02": ("0201", "0202", "0203", "0204", "0205", "0206", "0207", "0208", "0209", "0210", "0211", "0219"),
    "03": ("0301", "0302", "0309"),
    "04": ("0401", "0409"),
    "05": ("0501", "0502", "0503", "0504", "0509"),
    "06": ("0601", "0602", "0609"),
    "07": ("0701", "0702", "0703", "0704", "0709"),
    "08": ("0801", "0802", "0803", "0804", "0805", "0806", "0807", "0808", "0809"),
    "09": ("0901", "0902", "0903", "0904", "0905", "0906", "0907", "0909"),
    "10": ("1001", "1002", "1003", "1004", "1009"),
    "11": ("1101", "1102", "1109"),
}


def test_every_code_of_the_codelist_has_its_four_titles() -> None:
    codelist = iccs_codelist()
    assert list(codelist) == [code for section, divisions in LEVEL2.items() for code in (section, *divisions)]
    for code, titles in codelist.items():
        assert set(titles) == set(LANGUAGES), code
        for lang in LANGUAGES:
            title = titles[lang]
            assert title and title == title.strip() and "  " not in title, (code, lang)
        # Spanish, Portuguese and French are translations, not the English title left in place.
        translated = [lang for lang in ("es", "pt", "fr") if titles[lang] != titles["en"]]
        assert translated, code
    # A level-2 title is not its section's title (the gap this file closes: "0701 (Acts involving fraud…)").
    for section, divisions in LEVEL2.items():
        for code in divisions:
            assert codelist[code]["en"] != codelist[section]["en"] or code.endswith("9")


def test_every_iccs_code_the_project_uses_has_titled_categories() -> None:
    examples = ROOT / "forms" / "examples"
    used = set(GENERATED_CODES)
    for path in examples.rglob("*.json"):
        used |= set(re.findall(r'"iccs_code":\s*"([0-9]+)"', path.read_text(encoding="utf-8")))
    codelist = iccs_codelist()
    for code in used:
        if (level1 := iccs_level1(code)) is not None and level1 in LEVEL2:  # "7041" is an example of a bad code
            assert level1 in codelist, code
            if (level2 := iccs_level2(code)) is not None:
                assert level2 in codelist, code


def test_docs_codelist_is_the_data() -> None:
    section = DOCS.split("### Codelist `CL_ICCS`", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| code")]
    documented = {}
    for line in rows:
        code, *titles = [cell.strip() for cell in line.strip("|").split("|")]
        documented[code.strip("*")] = dict(zip(LANGUAGES, titles, strict=True))
    assert documented == iccs_codelist()


def test_docs_sdmx_codelists_match_the_code() -> None:
    table = {line.split("|")[1].strip().strip("`"): line.split("|")[3]
             for line in DOCS.split("## SDMX-CSV", 1)[1].splitlines() if line.startswith("| `")}
    codes = lambda cell: set(re.findall(r"`([^`]+)`", cell))  # noqa: E731
    assert codes(table["BREAKDOWN"]) == set(BREAKDOWN_CODES.values()) and set(BREAKDOWN_CODES) == set(BREAKDOWNS)
    assert codes(table["DIRECTION"]) == set(DIRECTION_CODES.values())
    assert codes(table["INDICATOR"]) - {"CURRENCY"} == set(INDICATORS)
    assert codes(table["FREQ"]) == set(SDMX_FREQ.values())
    category = codes(table["CATEGORY"])
    assert {"CL_ICCS", "ICCS_L1", "ICCS_L2", "_T", "UNKNOWN"} <= category
    assert set(OUTCOME_LABELS) <= category and set(ASSET_KINDS) <= category
    assert {TIME_BINS[0][2], TIME_BINS[-1][2]} <= category
    assert {f"ASSET_{flow.upper()}" for flow in ASSET_FLOWS} <= codes(table["BREAKDOWN"])


@pytest.mark.parametrize(("lang", "title"), [
    ("en", "Acts involving proceeds of crime"),
    ("es", "Actos que entrañan el producto del delito"),
    ("pt", "Atos que envolvem o produto do crime"),
    ("fr", "Actes impliquant le produit du crime"),
])
def test_level_2_categories_are_titled_in_every_report_format(lang: str, title: str) -> None:
    assert category_label("offence_category_l2", "0704", lang) == f"0704 — {title}"
    table = Published(observatory="PT-OBS", period=parse_period("2025"), threshold=5, granularity="year",
                      reporters=["ES-CA"], rows=[
                          Row("received", "offence_category", "07", count=9),
                          Row("received", "offence_category_l2", "0704", count=6),
                          Row("received", "offence_category_l2", "0701", count=None)])
    assert f"| 0704 — {title} |" in render(table, "md", lang)
    by_category = {r["category"]: r["label"] for r in csv.DictReader(io.StringIO(render(table, "csv", lang)))}
    assert by_category["0704"] == f"0704 — {title}" and by_category["07"].startswith("07 — ")
    rows = json.loads(render(table, "json", lang))["rows"]
    assert {r["category"]: r["label"] for r in rows}["0704"] == f"0704 — {title}"
    assert [Row.from_dict(r) for r in rows] == table.rows  # the label is beside the codes, never instead of them
    assert "0704 —" not in render(table, "sdmx", lang)  # SDMX-CSV stays codes only


def test_stats_name_level_1_sections_from_the_same_data() -> None:
    assert key_label("offence_category", "06", "pt") == (
        "06 — Atos que envolvem substâncias psicoativas controladas ou outras drogas")
    assert key_label("offence_category", "99", "es") == "99"
    assert iccs_label("0799", "fr") == "0799 (Actes impliquant la fraude, la tromperie ou la corruption)"
    assert iccs_label("0799", "de") == iccs_label("0799", "en")  # another language: the English title
