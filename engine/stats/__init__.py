"""Statistics for observatories: per authority and period, counts by counterpart country, ICCS offence
category, measure type, urgency and outcome (refusals by ground), medians and 90th percentiles of the times to
acknowledge, decide and execute, overdue rates per deadline kind: aggregates only, small groups
suppressed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from engine.stats._aggregate import (
    DEFAULT_THRESHOLD,
    DIRECTIONS,
    METRICS,
    SECTIONS,
    Cell,
    Duration,
    Month,
    Overdue,
    Report,
    as_dict,
    build_report,
    median_p90,
    overdue_state,
    suppress,
)
from engine.stats._chart import CHART_FORMATS, write_chart
from engine.stats._facts import CaseFacts, DeadlineFacts, collect, iccs_level1
from engine.stats._iccs import iccs_codelist, iccs_label, iccs_title
from engine.stats._output import FORMATS, csv_rows, render, to_csv, to_markdown
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.queries import load_authority


def compute(
    db: Database,
    authority: str,
    *,
    period_from: date,
    period_to: date,
    threshold: int = DEFAULT_THRESHOLD,
    as_of: datetime | None = None,
) -> Report:
    """The statistics of ``authority`` for requests opened between two dates (inclusive, in its timezone)."""
    from engine.errors import InvalidInput

    if period_to < period_from:
        raise InvalidInput(field="to", reason=f"{period_to} is before {period_from}")
    if threshold < 1:
        raise InvalidInput(field="threshold", reason="must be at least 1")
    as_of = as_of or utcnow()
    with db.reader() as session:
        owner = load_authority(session, authority)
        facts, clocks = collect(session, authority)
    return build_report(
        facts,
        clocks,
        authority=authority,
        period_from=period_from,
        period_to=period_to,
        timezone=ZoneInfo(owner.timezone),
        threshold=threshold,
        as_of=as_of,
    )


__all__ = [
    "CHART_FORMATS",
    "DEFAULT_THRESHOLD",
    "DIRECTIONS",
    "FORMATS",
    "METRICS",
    "SECTIONS",
    "CaseFacts",
    "Cell",
    "DeadlineFacts",
    "Duration",
    "Month",
    "Overdue",
    "Report",
    "as_dict",
    "build_report",
    "collect",
    "compute",
    "csv_rows",
    "iccs_codelist",
    "iccs_label",
    "iccs_level1",
    "iccs_title",
    "median_p90",
    "overdue_state",
    "render",
    "suppress",
    "to_csv",
    "to_markdown",
    "write_chart",
]
