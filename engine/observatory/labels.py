"""Names of breakdowns and categories in the reader's language (codes stay codes in CSV, JSON and SDMX)."""

from __future__ import annotations

from engine import formatting
from engine.documents._labels import enum_msgid
from engine.i18n import N_, translate
from engine.observatory.figures import ASSET_BREAKDOWNS, TIME_BINS, TOTAL
from engine.stats._facts import ASSET_KINDS
from engine.stats._iccs import iccs_label
from engine.stats._output import MEASURE_TYPES, OUTCOME_LABELS

INSTRUMENTS = ("EIO", "EU_MLA_2000", "CoE_MLA_1959", "MEDELLIN", "MAR_DEL_PLATA_2010", "OAS_NASSAU_1992",
               "UNTOC", "UNCAC", "VIENNA_1988", "BUDAPEST", "BILATERAL", "RECIPROCITY")

BREAKDOWN_LABELS = {
    "total": N_("Requests"),
    "counterpart_country": N_("Counterpart country"),
    "offence_category": N_("Offence category (ICCS level 1)"),
    "offence_category_l2": N_("Offence category (ICCS level 2)"),
    "measure_type": N_("Measure type"),
    "outcome": N_("Outcome"),
    "instrument": N_("Legal instrument"),
    "time_acknowledge": N_("Time to acknowledge"),
    "time_decide": N_("Time to decide"),
    "time_execute": N_("Time to execute"),
    "asset_frozen": N_("Assets frozen"),
    "asset_seized": N_("Assets seized"),
    "asset_confiscated": N_("Assets confiscated"),
    "asset_returned": N_("Assets returned or shared"),
}
TOTAL_LABEL = N_("Total")
UNKNOWN_INSTRUMENT = N_("Not recorded")
BIN_LABEL = N_("{low}–{high} days")
OPEN_BIN_LABEL = N_("{low} days or more")


def measure_label(code: str, lang: str) -> str:
    msgid = enum_msgid(MEASURE_TYPES, code)
    return translate(lang, msgid) if msgid else code


def category_label(breakdown: str, code: str, lang: str) -> str:
    """``("measure_type", "bank_records", "es")`` → "Información bancaria y financiera"."""
    t = lambda msgid: translate(lang, msgid)  # noqa: E731
    if code == TOTAL:
        return t(TOTAL_LABEL)
    if breakdown == "counterpart_country":
        return f"{formatting.country_name(code, lang)} ({code})"
    if breakdown in ("offence_category", "offence_category_l2"):
        return iccs_label(code, lang)
    if breakdown == "measure_type":
        return measure_label(code, lang)
    if breakdown == "outcome":
        return t(OUTCOME_LABELS[code]) if code in OUTCOME_LABELS else code
    if breakdown == "instrument":
        if code == "UNKNOWN":
            return t(UNKNOWN_INSTRUMENT)
        msgid = enum_msgid(INSTRUMENTS, code)
        return t(msgid) if msgid else code
    if breakdown.startswith("time_"):
        for low, high, label in TIME_BINS:
            if label == code:
                return t(OPEN_BIN_LABEL).format(low=low) if high is None else t(BIN_LABEL).format(low=low, high=high)
    if breakdown in ASSET_BREAKDOWNS:
        msgid = enum_msgid(ASSET_KINDS, code)
        return t(msgid) if msgid else code
    return code
