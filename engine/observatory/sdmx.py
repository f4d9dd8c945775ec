"""SDMX-CSV 2.0 of a published table: one observation per line, the dimensions of the data structure
``EXHORTO:MLA_STATS(1.0)`` (documented in docs/observatory.md), ``OBS_VALUE`` and the ``CONF_STATUS``
attribute (``F`` free, ``C`` confidential: suppressed, ``OBS_VALUE`` empty).

Written with :mod:`csv` rather than the ``sdmx1``/``pysdmx`` libraries: SDMX-CSV is a plain CSV with a fixed
header, the libraries bring pandas, lxml and HTTP clients for registry access that a node must not use
(nothing phones home), and what they add (SDMX-ML, registry queries) is not needed to produce the file."""

from __future__ import annotations

import csv
import io

from engine.observatory.figures import ASSET_BREAKDOWNS, Row

STRUCTURE_ID = "EXHORTO:MLA_STATS(1.0)"
DIMENSIONS = ("FREQ", "REPORTER", "DIRECTION", "BREAKDOWN", "CATEGORY", "CURRENCY", "INDICATOR", "TIME_PERIOD")
COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "OBS_VALUE", "CONF_STATUS")
DIRECTION_CODES = {"sent": "SENT", "received": "RECEIVED"}
BREAKDOWN_CODES = {
    "total": "TOTAL",
    "counterpart_country": "CTRY",
    "offence_category": "ICCS_L1",
    "offence_category_l2": "ICCS_L2",
    "measure_type": "MEASURE",
    "outcome": "OUTCOME",
    "instrument": "INSTRUMENT",
    "time_acknowledge": "TIME_ACK",
    "time_decide": "TIME_DEC",
    "time_execute": "TIME_EXE",
    "asset_frozen": "ASSET_FROZEN",
    "asset_seized": "ASSET_SEIZED",
    "asset_confiscated": "ASSET_CONFISCATED",
    "asset_returned": "ASSET_RETURNED",
}
# Indicators: requests (REQ); for asset rows the amount (AMT, in CURRENCY) and the requests behind it (AMT_REQ).
INDICATORS = ("REQ", "AMT", "AMT_REQ")


def observations(rows: list[Row], *, reporter: str, period: str, freq: str) -> list[dict[str, str]]:
    lines = []
    for row in rows:
        values: list[tuple[str, object]]
        if row.breakdown in ASSET_BREAKDOWNS:
            values = [("AMT", row.amount), ("AMT_REQ", row.count)]
        else:
            values = [("REQ", row.count)]
        for indicator, value in values:
            lines.append({
                "STRUCTURE": "dataflow", "STRUCTURE_ID": STRUCTURE_ID, "ACTION": "I", "FREQ": freq,
                "REPORTER": reporter, "DIRECTION": DIRECTION_CODES[row.direction],
                "BREAKDOWN": BREAKDOWN_CODES[row.breakdown], "CATEGORY": row.category, "CURRENCY": row.currency,
                "INDICATOR": indicator, "TIME_PERIOD": period,
                "OBS_VALUE": "" if value is None else str(value), "CONF_STATUS": "C" if value is None else "F",
            })
    return lines


def to_sdmx_csv(rows: list[Row], *, reporter: str, period: str, freq: str) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(observations(rows, reporter=reporter, period=period, freq=freq))
    return buffer.getvalue()
