"""The report as CSV, JSON or Markdown (labels in the reader's language, codes unchanged)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from engine import formatting
from engine.deadlines.messages import DEADLINE_LABELS
from engine.i18n import C_, N_, translate
from engine.stats._aggregate import SECTIONS, Report, as_dict
from engine.stats._iccs import iccs_label

FORMATS = ("csv", "json", "md")
SUPPRESSED = "<{threshold}"

SECTION_LABELS = {
    "counterpart_country": N_("Counterpart country"),
    "offence_category": N_("Offence category (ICCS level 1)"),
    "measure_type": N_("Measure type"),
    "urgency": N_("Urgency"),
    "outcome": N_("Outcome"),
    "refusal_ground": N_("Refusal ground"),
}
DIRECTION_LABELS = {"sent": C_("direction", "Sent"), "received": C_("direction", "Received")}
METRIC_LABELS = {
    "acknowledge": N_("Time to acknowledge"),
    "decide": N_("Time to decide"),
    "execute": N_("Time to execute"),
}
RESPONSIBLE_LABELS = {"self": N_("this authority"), "counterpart": N_("counterpart")}
OUTCOME_LABELS = {  # of requests: agrees with "request" (es solicitud, pt pedido, fr demande)
    "executed": C_("outcome", "Executed"),
    "partially_executed": C_("outcome", "Partially executed"),
    "refused": C_("outcome", "Refused"),
    "withdrawn": C_("outcome", "Withdrawn"),
    "pending": C_("outcome", "Pending"),
}
URGENCY_LABELS = {"normal": N_("Normal"), "urgent": N_("Urgent")}

CSV_COLUMNS = (
    "section", "direction", "key", "count", "n", "median_days", "p90_days", "deadlines", "rate", "currency", "amount"
)
ASSET_STAGE_LABELS = {
    "frozen": N_("Assets frozen"),
    "seized": N_("Assets seized"),
    "confiscated": N_("Assets confiscated"),
    "returned": N_("Assets returned or shared"),
}
ASSET_KINDS = ("account", "real_estate", "vehicle", "crypto", "other")
# Headings (module constants: gettext extraction does not look inside f-strings)
L_90TH_PERCENTILE = N_("90th percentile")
L_COOPERATION_STATISTICS = N_("Cooperation statistics")
L_DEADLINE = N_("Deadline")
L_MEDIAN = N_("Median")
L_OVERDUE = N_("Overdue")
L_OVERDUE_RATE_BY_DEADLINE = N_("Overdue rate by deadline")
L_PERIOD = N_("Period")
L_RECEIVED = C_("direction", "Received")
L_REQUESTS = N_("Requests")
L_RESPONSIBLE = N_("Responsible")
L_SENT = N_("Sent")
L_TIMES_DAYS_FROM_DELIVERY = N_("Times (days from delivery)")
ASSET_TITLE, ASSET_STAGE, ASSET_KIND = N_("Asset recovery"), N_("Stage"), N_("Kind of asset")
DIRECTION, AMOUNT, TOTAL = N_("Direction"), N_("Amount"), N_("Total")


def render(report: Report, fmt: str, lang: str = "en") -> str:
    if fmt == "json":
        return json.dumps(as_dict(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return to_csv(report)
    if fmt == "md":
        return to_markdown(report, lang)
    raise ValueError(fmt)


def csv_rows(report: Report) -> list[dict[str, Any]]:
    """One row per published figure; empty ``count``/``median_days``/``rate`` cells are suppressed values."""
    data = as_dict(report)
    rows: list[dict[str, Any]] = [
        {"section": "total", "direction": d, "key": "", "count": n} for d, n in data["totals"].items()
    ]
    for section in SECTIONS:
        rows += [{"section": section, **cell} for cell in data["groups"][section]]
    rows += [
        {
            "section": "duration",
            "direction": d["direction"],
            "key": d["metric"],
            "n": d["n"],
            "median_days": d["median_days"],
            "p90_days": d["p90_days"],
        }
        for d in data["durations"]
    ]
    rows += [
        {
            "section": "overdue",
            "direction": o["responsible"],
            "key": o["kind"],
            "deadlines": o["deadlines"],
            "rate": o["rate"],
        }
        for o in data["overdue"]
    ]
    rows += [
        {
            "section": "monthly",
            "direction": m["direction"],
            "key": m["month"],
            "count": m["count"],
            "median_days": m["execute_median_days"],
        }
        for m in data["monthly"]
    ]
    rows += [
        {
            "section": f"asset_{a['stage']}",
            "direction": a["direction"],
            "key": a["kind"],
            "count": a["cases"],
            "currency": a["currency"],
            "amount": a["amount"],
        }
        for a in data["assets"]
    ]
    return rows


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return buffer.getvalue()


MEASURE_TYPES = ("obtain_documents", "bank_records", "search_and_seizure", "witness_hearing", "suspect_hearing",
                 "service_of_documents", "asset_tracing", "freezing", "confiscation",
                 "transfer_of_detained_person", "joint_investigation_team")
REFUSAL_GROUNDS = ("immunity_privilege", "national_security", "not_authorised_domestically", "ne_bis_in_idem",
                   "territoriality", "fundamental_rights", "no_double_criminality", "measure_restricted", "other")


def key_label(section: str, key: str, lang: str) -> str:
    from engine.documents._labels import enum_msgid

    if section == "counterpart_country":
        return f"{formatting.country_name(key, lang)} ({key})"
    coded = {"measure_type": MEASURE_TYPES, "refusal_ground": REFUSAL_GROUNDS}.get(section)
    if coded is not None:
        msgid = enum_msgid(coded, key)
        return translate(lang, msgid) if msgid else key
    if section == "offence_category":
        return iccs_label(key, lang)
    labels = {"outcome": OUTCOME_LABELS, "urgency": URGENCY_LABELS}.get(section)
    return translate(lang, labels[key]) if labels and key in labels else key


def to_markdown(report: Report, lang: str = "en") -> str:
    t = lambda msgid: translate(lang, msgid)  # noqa: E731
    hidden = SUPPRESSED.format(threshold=report.threshold)

    def shown(value: Any) -> str:
        if value is None:
            return hidden
        return formatting.format_number(value, lang) if isinstance(value, int | float) else str(value)

    out = [
        f"# {t(L_COOPERATION_STATISTICS)} — {report.authority}",
        "",
        f"{formatting.with_colon(t(L_PERIOD), lang)} {formatting.format_date(report.period_from, lang)} – "
        f"{formatting.format_date(report.period_to, lang)}  ",
        t(N_("Groups smaller than {threshold} are suppressed ({hidden}).")).format(
            threshold=report.threshold, hidden=hidden
        ),
        "",
    ]
    out += [
        f"| | {t(L_SENT)} | {t(L_RECEIVED)} |",
        "|---|---:|---:|",
        f"| {t(L_REQUESTS)} | {shown(report.totals.get('sent'))} | {shown(report.totals.get('received'))} |",
        "",
    ]
    for section in SECTIONS:
        keys = sorted({c.key for c in report.cells if c.section == section})
        if not keys:
            continue
        value = {(c.direction, c.key): c.count for c in report.cells if c.section == section}
        out += [
            f"## {t(SECTION_LABELS[section])}",
            "",
            f"| | {t(L_SENT)} | {t(L_RECEIVED)} |",
            "|---|---:|---:|",
        ]
        out += [
            f"| {key_label(section, k, lang)} | {shown(value[('sent', k)]) if ('sent', k) in value else '0'} "
            f"| {shown(value[('received', k)]) if ('received', k) in value else '0'} |"
            for k in keys
        ]
        out.append("")
    out += [
        f"## {t(L_TIMES_DAYS_FROM_DELIVERY)}",
        "",
        f"| | | n | {t(L_MEDIAN)} | {t(L_90TH_PERCENTILE)} |",
        "|---|---|---:|---:|---:|",
    ]
    out += [
        f"| {t(DIRECTION_LABELS[d.direction])} | {t(METRIC_LABELS[d.metric])} | {shown(d.n)} "
        f"| {'–' if d.n == 0 else shown(_r(d.median_days))} | {'–' if d.n == 0 else shown(_r(d.p90_days))} |"
        for d in report.durations
    ]
    out.append("")
    if report.overdue:
        out += [
            f"## {t(L_OVERDUE_RATE_BY_DEADLINE)}",
            "",
            f"| {t(L_DEADLINE)} | {t(L_RESPONSIBLE)} | n | {t(L_OVERDUE)} |",
            "|---|---|---:|---:|",
        ]
        out += [
            f"| {_deadline_label(o.kind, lang)} | {t(RESPONSIBLE_LABELS[o.responsible])} | {shown(o.deadlines)} | "
            f"{hidden if o.rate is None else formatting.format_number(round(100 * o.rate, 1), lang) + ' %'} |"
            for o in report.overdue
        ]
        out.append("")
    if report.assets:
        out += _assets_markdown(report, lang, hidden)
    return "\n".join(out)


def _assets_markdown(report: Report, lang: str, hidden: str) -> list[str]:
    from engine.documents._labels import enum_msgid

    t = lambda msgid: translate(lang, msgid)  # noqa: E731
    out = [
        f"## {t(ASSET_TITLE)}",
        "",
        f"| {t(ASSET_STAGE)} | {t(ASSET_KIND)} | {t(DIRECTION)} | n | {t(AMOUNT)} |",
        "|---|---|---|---:|---:|",
    ]
    for a in report.assets:
        msgid = enum_msgid(ASSET_KINDS, a.kind)
        kind = t(TOTAL) if a.kind == "_T" else t(msgid) if msgid else a.kind
        amount = hidden if a.amount is None else formatting.format_currency(a.amount, a.currency, lang)
        count = hidden if a.cases is None else formatting.format_number(a.cases, lang)
        out.append(
            f"| {t(ASSET_STAGE_LABELS[a.flow])} | {kind} | {t(DIRECTION_LABELS[a.direction])} | {count} | {amount} |"
        )
    out.append("")
    return out


def _deadline_label(kind: str, lang: str) -> str:
    return translate(lang, DEADLINE_LABELS[kind]) if kind in DEADLINE_LABELS else kind


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
