"""The pages use one word per concept in each language (locales/glossary.csv), including what templates say outside
the catalogs: no French 'brouillon' beside 'projet', and the side of one case in the singular ("Solicitud:
Enviada", not "Sentido: Emitidas")."""

from __future__ import annotations

import csv
import re
from html import unescape
from pathlib import Path

import pytest

from engine.i18n import LANGUAGES
from tests.web.conftest import Web

GLOSSARY = Path(__file__).resolve().parents[2] / "locales" / "glossary.csv"
SIDE = {  # the case page's "Request: Sent" for a request sent, per language
    "es": ("Solicitud", "Enviada"), "pt_PT": ("Pedido", "Enviado"), "pt_BR": ("Pedido", "Enviado"),
    "en": ("Request", "Sent"), "fr": ("Demande", "Envoyée"),
}
DRAFT = {"es": "borrador", "pt_PT": "rascunho", "pt_BR": "rascunho", "en": "draft", "fr": "projet"}


def _rejected(lang: str) -> list[tuple[str, re.Pattern[str]]]:
    with GLOSSARY.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "term" and r["scope"] == "catalogs and schemas"]
    return [(row["concept"], re.compile(expression, re.IGNORECASE)) for row in rows
            for locale, expression in (item.split(":", 1) for item in row["rejected"].split("|") if item)
            if locale == lang]


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_use_one_word_per_concept(sqlite_web: Web, lang: str) -> None:
    web = sqlite_web
    draft = web.world.new_request("CO-FGN", "ES-MJ")
    sent, _ = web.world.transmitted("CO-FGN", "ES-MJ")
    clerk = web.client("co.clerk", lang=lang)
    pages = {url: clerk.get(url) for url in ("/web/", f"/web/cases/{draft.id}", f"/web/cases/{sent.id}")}
    withdraw = f"/web/cases/{sent.id}/actions/withdraw"
    pages[withdraw] = web.client("co.judge", lang=lang).get(withdraw)
    assert all(r.status_code == 200 for r in pages.values()), {u: r.status_code for u, r in pages.items()}
    found = [(url, concept, match.group(0)) for url, response in pages.items() for concept, pattern in _rejected(lang)
             for match in [pattern.search(_text(response.text))] if match]
    assert not found, found
    assert DRAFT[lang] in _text(pages["/web/"].text).lower()
    label, value = SIDE[lang]
    assert f"<dt>{label}</dt><dd>{value}</dd>" in unescape(pages[f"/web/cases/{sent.id}"].text)
