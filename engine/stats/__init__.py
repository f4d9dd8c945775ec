"""Statistics for observatories: per authority and period, counts by counterpart country, ICCS offence
category, measure type, urgency and outcome (refusals by ground), medians and 90th percentiles of the times to
acknowledge, decide and execute, overdue rates per deadline kind: aggregates only, small groups
suppressed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from engine.observatory.periods import Period, calendar_period, parse_period
from engine.stats._aggregate import (
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
from engine.stats._policy import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    authorize,
    min_group,
    policy_history,
    set_min_group,
    threshold_for,
)
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.queries import load_authority


def compute(
    db: Database,
    authority: str,
    *,
    period: Period | str | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    threshold: int | None = None,
    as_of: datetime | None = None,
) -> Report:
    """The statistics of ``authority`` for requests opened in a calendar period (``period``, or exactly
    ``period_from`` to ``period_to``, in its timezone). ``threshold``: the authority's policy when None.
    Callers acting for a user go through :func:`authorize` and :func:`threshold_for` first."""
    from engine.errors import InvalidInput

    if isinstance(period, str):
        period = parse_period(period)
    if period is None:
        if period_from is None or period_to is None:
            raise InvalidInput(field="period", reason="give a calendar period")
        period = calendar_period(period_from, period_to)
    if threshold is None:
        threshold = min_group(db, authority)
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
        period=period,
        timezone=ZoneInfo(owner.timezone),
        threshold=threshold,
        as_of=as_of,
    )


__all__ = [
    "CHART_FORMATS",
    "DEFAULT_THRESHOLD",
    "DIRECTIONS",
    "FORMATS",
    "MAX_THRESHOLD",
    "Period",
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
    "authorize",
    "calendar_period",
    "min_group",
    "parse_period",
    "policy_history",
    "set_min_group",
    "threshold_for",
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
