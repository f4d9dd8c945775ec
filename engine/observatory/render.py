"""A published table as Markdown (labels in the reader's language, amounts formatted by Babel), CSV and JSON
(codes, with a ``label`` in the reader's language beside them) or SDMX-CSV (codes only: its codelists are in
docs/observatory.md)."""

from __future__ import annotations

import csv
import io
import json
from itertools import groupby
from typing import Any

from engine import formatting
from engine.i18n import C_, N_, translate
from engine.observatory.figures import ASSET_BREAKDOWNS, BREAKDOWNS, NOT_APPLICABLE, Row
from engine.observatory.labels import BREAKDOWN_LABELS, category_label
from engine.observatory.periods import SDMX_FREQ
from engine.observatory.publish import Published
from engine.observatory.sdmx import to_sdmx_csv

FORMATS = ("md", "csv", "json", "sdmx")
CSV_COLUMNS = ("direction", "breakdown", "category", "label", "currency", "count", "amount")
TITLE = N_("Observatory statistics")
PERIOD = N_("Period")
RETURNS_FROM = N_("Returns from")
SUPPRESSED_NOTE = N_("Groups smaller than {threshold} are suppressed ({hidden}).")
SENT, RECEIVED = C_("direction", "Sent"), C_("direction", "Received")


def render(table: Published, fmt: str, lang: str = "en") -> str:
    if fmt == "json":
        return json.dumps(as_dict(table, lang), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in table.rows:
            data = {**row.to_dict(), "label": category_label(row.breakdown, row.category, lang)}
            writer.writerow({k: "" if data.get(k) is None else data[k] for k in CSV_COLUMNS})
        return buffer.getvalue()
    if fmt == "sdmx":
        return to_sdmx_csv(table.rows, reporter=table.observatory, period=table.period.code,
                           freq=SDMX_FREQ[table.period.granularity])
    if fmt == "md":
        return to_markdown(table, lang)
    raise ValueError(fmt)


def as_dict(table: Published, lang: str = "en") -> dict[str, Any]:
    return {"observatory": table.observatory, "period": table.period.code, "granularity": table.granularity,
            "threshold": table.threshold, "reporters": table.reporters,
            "generated_at": table.generated_at.isoformat(timespec="seconds"),
            "rows": [{**r.to_dict(), "label": category_label(r.breakdown, r.category, lang)} for r in table.rows]}


def sections(table: Published) -> list[tuple[str, str, list[Row]]]:
    """(breakdown, currency, rows) in publication order: what the Markdown and the web page show."""
    ordered = sorted(table.rows, key=lambda r: (BREAKDOWNS.index(r.breakdown), r.currency))
    return [(b, c, list(rows)) for (b, c), rows in groupby(ordered, key=lambda r: (r.breakdown, r.currency))]


def shown_count(value: int | None, lang: str, hidden: str) -> str:
    return hidden if value is None else formatting.format_number(value, lang)


def to_markdown(table: Published, lang: str = "en") -> str:
    t = lambda msgid: translate(lang, msgid)  # noqa: E731
    hidden = f"<{table.threshold}"
    out = [
        f"# {t(TITLE)} — {table.observatory}",
        "",
        f"{formatting.with_colon(t(PERIOD), lang)} {table.period.code} "
        f"({formatting.format_date(table.period.start, lang)} – "
        f"{formatting.format_date(table.period.end, lang)})  ",
        f"{formatting.with_colon(t(RETURNS_FROM), lang)} {', '.join(table.reporters) or '–'}  ",
        t(SUPPRESSED_NOTE).format(
            threshold=table.threshold, hidden=hidden),
        "",
    ]
    for breakdown, currency, rows in sections(table):
        title = t(BREAKDOWN_LABELS[breakdown])
        if currency != NOT_APPLICABLE:
            title += f" ({currency})"
        by_key = {(r.category, r.direction): r for r in rows}
        categories = list(dict.fromkeys(r.category for r in rows))
        out += [f"## {title}", ""]
        if breakdown in ASSET_BREAKDOWNS:
            out += [f"| | {t(SENT)} | n | {t(RECEIVED)} | n |", "|---|---:|---:|---:|---:|"]
        else:
            out += [f"| | {t(SENT)} | {t(RECEIVED)} |", "|---|---:|---:|"]
        for category in categories:
            cells = []
            for direction in ("sent", "received"):
                row = by_key.get((category, direction))
                count = "0" if row is None else shown_count(row.count, lang, hidden)
                if breakdown in ASSET_BREAKDOWNS:
                    amount = "–" if row is None else hidden if row.amount is None else \
                        formatting.format_currency(row.amount, currency, lang)
                    cells += [amount, count]
                else:
                    cells.append(count)
            out.append(f"| {category_label(breakdown, category, lang)} | {' | '.join(cells)} |")
        out.append("")
    return "\n".join(out)
