"""PDF/A-3b rendering speed: p50/p95 wall and CPU time of the full request PDF per language, pages per second.

    .venv/bin/python bench/pdf.py [--runs 20] [--example co-es-bank-records] [--bilingual]

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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader  # noqa: E402

from engine.documents import Party, RenderRequest, render_pdf  # noqa: E402
from engine.i18n import LANGUAGES  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "forms" / "examples" / "request"
TARGET_P50 = 0.5


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--example", default="co-es-bank-records")
    parser.add_argument("--bilingual", action="store_true", help="add the second language (es, or fr for es)")
    args = parser.parse_args()
    raw = (EXAMPLES / f"{args.example}.json").read_bytes()
    payload = json.loads(raw)
    print(f"request example {args.example}, {args.runs} runs per language, payload {len(raw)} bytes")
    print(f"{'lang':<7}{'pages':>6}{'KiB':>7}{'p50 s':>8}{'p95 s':>8}{'cpu p50':>9}{'pages/s':>9}")
    worst = 0.0
    for lang in LANGUAGES:
        second = ("fr" if lang == "es" else "es") if args.bilingual else None
        request = RenderRequest(
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
