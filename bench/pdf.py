"""PDF/A-3b rendering speed: p50/p95 wall and CPU time of the full request PDF per language, pages per second.

    .venv/bin/python bench/pdf.py [--runs 20] [--example co-es-bank-records] [--bilingual]
    .venv/bin/python bench/pdf.py --persons 60 [--runs 3]

With ``--persons N`` (issue 19): the request example with N persons, rendered in English, beside bare WeasyPrint
on a plain HTML document of the same page count (one paragraph of text per page, the same DejaVu font, no PDF/A,
no attachment), both measured alternately in CPU time. Target: engine <= 2x that baseline. A second line sets the
engine beside bare WeasyPrint on the request's own HTML and stylesheet (WeasyPrint's stock ``HTML``, no PDF/A, no
attachment, no stamp box): what the engine adds to WeasyPrint, apart from what its pages hold; the text lines per
page of both documents say how much denser the request's pages are than the plain ones. A third line renders
the request with twice as many persons, beside as many more plain pages: what a page of persons costs against a
plain page, the part of the ratio that the request's fixed first pages do not weigh on.

Renders the request example (payload embedded, fonts subset) ``runs`` times per language after one warm-up
(the first render loads fonts and templates). Target: p50 < 0.5 s. CPU time is reported beside wall time
because this machine is shared: wall time grows with other processes, CPU time does not.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader  # noqa: E402

from engine.documents import Party, RenderRequest, render_pdf  # noqa: E402
from engine.i18n import LANGUAGES  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "forms" / "examples" / "request"
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "forms" / "templates"
TARGET_P50 = 0.5


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _request(payload: dict[str, object], raw: bytes, lang: str, second: str | None) -> RenderRequest:
    return RenderRequest(
        form="request",
        payload=payload,
        language=lang,
        secondary_language=second,
        payload_bytes=raw,
        sender=Party("CO-FGN", "Fiscalía General de la Nación", "CO"),
        recipient=Party("ES-MJ", "Ministerio de Justicia", "ES"),
        issued_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        timezone="America/Bogota",
    )


def _plain_html(pages: int) -> str:
    text = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. "
            * 30)
    body = "".join(f'<p style="page-break-after: always">{i}. {text}</p>' for i in range(pages))
    return (f'<html lang="en"><head><meta charset="utf-8"><title>plain</title><style>@page {{ size: A4 }} '
            f"body {{ font-family: 'DejaVu Sans'; font-size: 10pt }}</style></head><body>{body}</body></html>")


def _lines_per_page(pdf: bytes) -> float:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return sum(len(page.extract_text().splitlines()) for page in pages) / len(pages)


def many_persons(example: str, persons: int, runs: int) -> int:
    """The request with ``persons`` persons beside bare WeasyPrint on as many plain pages, and on its own HTML."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from engine.documents import render_html

    request = _with_persons(example, persons)
    twice = _with_persons(example, 2 * persons)
    pdf = render_pdf(request)  # warm-up
    pages = len(PdfReader(io.BytesIO(pdf.content)).pages)
    plain = _plain_html(pages)
    plain_pdf = HTML(string=plain).write_pdf()
    plain_pages = len(PdfReader(io.BytesIO(plain_pdf)).pages)
    # The request's own HTML and stylesheet through stock WeasyPrint (fonts and stylesheet reused, as the engine does).
    own_html, fonts = render_html(request), FontConfiguration()
    own_css = CSS(filename=str(TEMPLATES_DIR / "document.css"), font_config=fonts)

    def own() -> bytes:
        return HTML(string=own_html, base_url=str(TEMPLATES_DIR)).write_pdf(stylesheets=[own_css], font_config=fonts)

    own()  # warm-up
    twice_pages = len(PdfReader(io.BytesIO(render_pdf(twice).content)).pages)
    twice_plain = _plain_html(twice_pages)
    engine_cpu, bare_cpu, own_cpu, twice_cpu, twice_bare_cpu = [], [], [], [], []
    alternating: list[tuple[list[float], Callable[[], object]]] = [
        (twice_cpu, lambda: render_pdf(twice)), (twice_bare_cpu, lambda: HTML(string=twice_plain).write_pdf()),
        (engine_cpu, lambda: render_pdf(request)), (bare_cpu, lambda: HTML(string=plain).write_pdf()),
        (own_cpu, own),
    ]
    for _ in range(runs):
        for times, render in alternating:
            start = time.process_time()
            render()
            times.append(time.process_time() - start)
    ratios = sorted(e / b for e, b in zip(engine_cpu, bare_cpu, strict=True))
    own_ratios = sorted(e / b for e, b in zip(engine_cpu, own_cpu, strict=True))
    engine, bare = statistics.median(engine_cpu), statistics.median(bare_cpu)
    print(f"{persons}-person request ({example}, en): {pages} pages, {pdf.size / 1024:.0f} KiB, cpu p50 {engine:.2f} s "
          f"({min(engine_cpu):.2f}-{max(engine_cpu):.2f}); bare WeasyPrint {plain_pages} plain pages: cpu p50 "
          f"{bare:.2f} s; ratio {statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}), {runs} runs")
    print(f"target engine <= 2x bare WeasyPrint: {'met' if statistics.median(ratios) <= 2 else 'NOT met'}")
    print(f"bare WeasyPrint on the request's own HTML and stylesheet: cpu p50 {statistics.median(own_cpu):.2f} s; "
          f"engine / that {statistics.median(own_ratios):.2f}x ({own_ratios[0]:.2f}-{own_ratios[-1]:.2f}); "
          f"text lines per page: request {_lines_per_page(pdf.content):.0f}, plain {_lines_per_page(plain_pdf):.0f}")
    # Where the ratio comes from: the pages that more persons add, against as many more plain pages. What is left
    # over is the fixed part of the request (its first pages: authorities, legal basis, offences, measures, ...).
    added = twice_pages - pages
    if added > 0:
        per_page = (statistics.median(twice_cpu) - engine) / added
        plain_per_page = (statistics.median(twice_bare_cpu) - bare) / added
        print(f"pages of persons ({persons} more persons: +{added} pages): cpu {per_page * 1000:.0f} ms a page against "
              f"{plain_per_page * 1000:.0f} ms a plain page: {per_page / plain_per_page:.2f}x")
    return 0


def _with_persons(example: str, persons: int) -> RenderRequest:
    """The request example with ``persons`` natural persons, each with its own name."""
    payload = json.loads((EXAMPLES / f"{example}.json").read_bytes())
    person = next(p for p in payload["persons"] if "surname" in p)  # a natural person
    payload["persons"] = [{**person, "surname": f"{person['surname']} {i + 1}"} for i in range(persons)]
    raw = json.dumps(payload, ensure_ascii=False).encode()
    return _request(payload, raw, "en", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--persons", type=int, help="only the N-person request beside bare WeasyPrint")
    parser.add_argument("--example", default="co-es-bank-records")
    parser.add_argument("--bilingual", action="store_true", help="add the second language (es, or fr for es)")
    args = parser.parse_args()
    if args.persons:
        return many_persons(args.example, args.persons, args.runs)
    raw = (EXAMPLES / f"{args.example}.json").read_bytes()
    payload = json.loads(raw)
    print(f"request example {args.example}, {args.runs} runs per language, payload {len(raw)} bytes")
    print(f"{'lang':<7}{'pages':>6}{'KiB':>7}{'p50 s':>8}{'p95 s':>8}{'cpu p50':>9}{'pages/s':>9}")
    worst = 0.0
    for lang in LANGUAGES:
        second = ("fr" if lang == "es" else "es") if args.bilingual else None
        request = _request(payload, raw, lang, second)
        pdf = render_pdf(request)  # warm-up: fonts, templates, schemas
        pages = len(PdfReader(io.BytesIO(pdf.content)).pages)
        wall, cpu = [], []
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            render_pdf(request)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        p50 = statistics.median(wall)
        worst = max(worst, p50)
        label = lang + (f"+{second}" if second else "")
        print(
            f"{label:<7}{pages:>6}{pdf.size / 1024:>7.1f}{p50:>8.3f}{_percentile(wall, 0.95):>8.3f}"
            f"{statistics.median(cpu):>9.3f}{pages / p50:>9.1f}"
        )
    print(
        f"target p50 < {TARGET_P50} s: {'met' if worst < TARGET_P50 else 'NOT met'} (worst p50 {worst:.3f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
