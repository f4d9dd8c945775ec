"""Every kind of document, from every example, in every locale: the words and the typography a court expects.

- French: a narrow no-break space (U+202F) before ``:`` ``;`` ``?`` ``!`` and inside « », never a plain space or
  none (issue 22 item 8);
- no term the glossary rejects for that locale (locales/glossary.csv, ``rejected``);
- the running header names the sender by its side in the case: a document from the requested side never calls
  its sender "issuing authority" / "AUTORIDAD EMISORA" (EIO usage for the requesting side);
- Brazilian Portuguese is not European Portuguese (no "receção", "arguido", "apelidos").

HTML is checked (the PDF is the same HTML through WeasyPrint, see test_rendering.py), so all examples in all
locales stay quick.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.documents import Party, RenderRequest, render_html
from engine.documents._render import REQUESTED_SIDE_FORMS
from engine.forms import FORMS
from engine.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "forms" / "examples"
CASES = [(form, path) for form in FORMS for path in sorted((EXAMPLES / form).glob("*.json"))]
ISSUED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # the first of the month: "1er décembre"


def _glossary() -> list[dict[str, str]]:
    with (ROOT / "locales" / "glossary.csv").open(encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["kind"] == "term"]


def _rejected(lang: str, scope: str) -> list[re.Pattern[str]]:
    found = []
    for row in _glossary():
        if row["scope"] != scope:
            continue
        for item in filter(None, row["rejected"].split("|")):
            locale, expression = item.split(":", 1)
            if locale == lang:
                found.append(re.compile(expression, re.IGNORECASE))
    return found


def _render(form: str, path: Path, lang: str) -> str:
    return render_html(RenderRequest(
        form=form, payload=json.loads(path.read_bytes()), language=lang,
        sender=Party("BR-MJSP", "Ministério da Justiça e Segurança Pública", "BR"),
        recipient=Party("PT-PGR", "Procuradoria-Geral da República", "PT"),
        issued_at=ISSUED, timezone="America/Sao_Paulo", signer="Juiz BR-MJSP",
    ))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _labels_text(document: str, path: Path | str | None = None) -> str:
    """What the template and the catalogs put on the page: the visible text and the running header's CSS
    strings, without the payload's own free text when ``path`` is given (what a user wrote is theirs)."""
    header = " ".join(re.findall(r'content:\s*"((?:[^"\\]|\\.)*)"', document))
    body = re.sub(r"<style.*?</style>|<script.*?</script>", " ", document, flags=re.DOTALL)
    body = re.sub(r"<[^>]+>", "\n", body)
    text = html.unescape(header.replace("\\A", "\n") + "\n" + body)
    if path is not None:
        for value in sorted(_strings(json.loads(Path(path).read_bytes())), key=len, reverse=True):
            if len(value) > 3:
                text = text.replace(value, "¤")
    return text


# A colon after a word with a plain space or no space before it, not a clock ("09:30") nor a URL or a code.
_FRENCH_BAD = [
    re.compile(r"(?<=[^\s\u202f\d/]):(?=[\s\u00a0]|$)", re.MULTILINE),
    re.compile(r"[ \u00a0][:;?!](?=\s|$)", re.MULTILINE),
    re.compile(r"(?<=\w)[;?!](?=\s|$)", re.MULTILINE),
    re.compile(r"«(?!\u202f)|(?<!\u202f)»"),
]


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str], str]:
    return {(str(path), lang): _render(form, path, lang) for form, path in CASES for lang in LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_rejected_term_in_any_document(rendered: dict[tuple[str, str], str], lang: str) -> None:
    rejected = _rejected(lang, "catalogs and schemas")
    found = [(Path(path).name, pattern.pattern) for (path, language), document in rendered.items()
             if language == lang for pattern in rejected if pattern.search(_labels_text(document))]
    assert not found, found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_requested_side_documents_name_their_sender_by_side(rendered: dict[tuple[str, str], str], lang: str) -> None:
    rejected = _rejected(lang, "documents from the requested side")
    assert rejected or lang not in ("es", "pt_PT", "fr", "en")
    for form, path in CASES:
        header = " ".join(re.findall(r'@top-left \{ content: "((?:[^"\\]|\\.)*)"', rendered[(str(path), lang)]))
        assert header, (form, path.name)
        if form in REQUESTED_SIDE_FORMS:
            assert not [p.pattern for p in rejected if p.search(header)], (form, path.name, header)


def test_french_punctuation_is_spaced_as_french_typography_requires(
    rendered: dict[tuple[str, str], str],
) -> None:
    wrong = []
    for (path, lang), document in rendered.items():
        if lang != "fr":
            continue
        text = _labels_text(document, path)
        for pattern in _FRENCH_BAD:
            for match in pattern.finditer(text):
                line = text[max(0, match.start() - 40): match.end() + 20].replace("\n", " ⏎ ")
                wrong.append((Path(path).name, line))
    assert not wrong, "\n".join(map(str, wrong[:30]))


def test_french_dates_say_premier(rendered: dict[tuple[str, str], str]) -> None:
    assert all("1er décembre 2026" in document for (_, lang), document in rendered.items() if lang == "fr")


def test_british_dates_in_english(rendered: dict[tuple[str, str], str]) -> None:
    documents = [document for (_, lang), document in rendered.items() if lang == "en"]
    assert all("1 December 2026" in document for document in documents)
    assert not any("December 1, 2026" in document for document in documents)


def test_brazilian_documents_are_in_brazilian_portuguese(rendered: dict[tuple[str, str], str]) -> None:
    european = re.compile(r"\b(receção|arguid[oa]s?|apelidos?|ficheiros?|registo|utilizador)\b", re.IGNORECASE)
    found = [(Path(path).name, match.group(0)) for (path, lang), document in rendered.items() if lang == "pt_BR"
             for match in european.finditer(_labels_text(document))]
    assert not found, found
