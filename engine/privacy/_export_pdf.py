"""The subject-access export as a PDF/A-3b document with the JSON embedded (``subject-access.json``)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from engine import formatting
from engine.i18n import N_, check_language, translate
from engine.lifecycle import STATE_LABELS, State

TEMPLATES = Path(__file__).with_name("templates")
JSON_NAME = "subject-access.json"
_PAGE = N_("Page {page} of {pages}")
_ONE_YEAR, _YEARS = N_("1 year after closure"), N_("{n} years after closure")
_SIDES = {"requesting": N_("Requesting side"), "requested": N_("Requested side")}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _page_css(lang: str) -> str:
    """``Page {page} of {pages}`` in ``lang`` as a CSS ``content`` value with the page counters."""
    text = translate(lang, _PAGE)
    parts: list[str] = []
    rest = text
    while rest:
        position = min((p for p in (rest.find("{page}"), rest.find("{pages}")) if p >= 0), default=-1)
        if position < 0:
            parts.append(_css_string(rest))
            break
        if position:
            parts.append(_css_string(rest[:position]))
        token = "{pages}" if rest.startswith("{pages}", position) else "{page}"
        parts.append("counter(pages)" if token == "{pages}" else "counter(page)")
        rest = rest[position + len(token) :]
    return " ".join(parts)


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " | ".join(_flat(v) for v in value)
    return str(value)


def subject_html(data: dict[str, Any], lang: str) -> str:
    lang = check_language(lang)
    return (
        _environment()
        .get_template("subject_access.html.j2")
        .render(
            data=data,
            lang=lang,
            page_css=_page_css(lang),
            _=lambda msgid: translate(lang, msgid),
            date=lambda value: formatting.format_date(value, lang) if value else "",
            country=lambda code: formatting.country_name(code, lang) if code else "",
            state=lambda value: translate(lang, STATE_LABELS[State(value)]),
            side=lambda value: translate(lang, _SIDES.get(value, value)),
            years=lambda n: translate(lang, _ONE_YEAR if n == 1 else _YEARS).format(n=n),
            flat=_flat,
        )
    )


def subject_pdf(data: dict[str, Any], lang: str) -> bytes:
    """PDF/A-3b of the export in ``lang``; the JSON rides along as an associated file."""
    from weasyprint import HTML, Attachment

    generated = datetime.fromisoformat(data["generated_at"])
    attachment = Attachment(
        string=json_bytes(data),
        name=JSON_NAME,
        relationship="Data",
        description="Subject access export (JSON)",
        created=generated,
        modified=generated,
    )
    return HTML(string=subject_html(data, lang)).write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment])  # type: ignore[no-any-return]


def json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
