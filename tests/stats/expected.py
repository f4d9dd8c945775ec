"""An independent computation of the statistics from the generator's ground truth (not from the database),
written without engine.stats, to check it against."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.stats.generate import Exchange

LAG = timedelta(minutes=3)  # the requesting side records the counterpart's moves 3 minutes later


def interpolated(values: list[float], p: float) -> float:
    """Percentile by linear interpolation between closest ranks (rank (n-1)·p, counted from 0)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _days(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds() / 86400


def side_view(x: Exchange, direction: str) -> dict[str, Any]:
    t = x.times
    if direction == "received":
        ack, decide, execute = t.get("ack"), t.get("decide"), t.get("execute")
        opened = t["delivered"]
    else:
        ack = t["ack"] + LAG if "ack" in t else None
        signs = [t[k] + LAG for k in ("partial", "execute") if k in t]
        if x.outcome == "refused":
            signs.append(t["decide"] + LAG)
        decide = min(signs) if signs else None
        execute = t["execute"] + LAG if "execute" in t else None
        opened = t["transmit"]
    return {
        "opened": opened,
        "acknowledge": _days(t["delivered"], ack),
        "decide": _days(t["delivered"], decide),
        "execute": _days(t["delivered"], execute),
        "executed_at": execute,
    }


def expected(
    exchanges: list[Exchange],
    authority: str,
    timezone: str,
    period_from: date,
    period_to: date,
    as_of: datetime,
) -> dict[str, Any]:
    tz = ZoneInfo(timezone)
    counts: dict[tuple[str, str, str], int] = Counter()
    totals: Counter[str] = Counter()
    spans: dict[tuple[str, str], list[float]] = defaultdict(list)
    overdue: dict[tuple[str, str], list[bool]] = defaultdict(list)
    months: Counter[tuple[str, str]] = Counter()
    for x in exchanges:
        for direction, owner, country in (
            ("sent", x.requesting, x.requested_country),
            ("received", x.requested, x.requesting_country),
        ):
            if owner != authority:
                continue
            view = side_view(x, direction)
            if not period_from <= view["opened"].astimezone(tz).date() <= period_to:
                continue
            totals[direction] += 1
            months[(view["opened"].astimezone(tz).strftime("%Y-%m"), direction)] += 1
            keys = {
                "counterpart_country": {country},
                "offence_category": {c[:2] for c in x.offences},
                "measure_type": set(x.measures),
                "urgency": {x.urgency},
                "outcome": {x.outcome},
                "refusal_ground": set(x.grounds),
            }
            for section, values in keys.items():
                for value in values:
                    counts[(section, direction, value)] += 1
            for metric in ("acknowledge", "decide", "execute"):
                if view[metric] is not None:
                    spans[(direction, metric)].append(view[metric])
            if direction == "received":
                for clock in x.clocks:
                    late: bool | None
                    if clock["status"] == "met":
                        late = clock["stopped_at"] > clock["due_at"]
                    elif clock["status"] == "cancelled":
                        late = True if clock["stopped_at"] > clock["due_at"] else None
                    else:
                        late = True if clock["due_at"] <= as_of else None
                    if late is not None:
                        overdue[(clock["kind"], "self")].append(late)
    return {
        "totals": dict(totals),
        "counts": dict(counts),
        "spans": dict(spans),
        "overdue": {k: (len(v), sum(v) / len(v)) for k, v in overdue.items()},
        "months": dict(months),
    }
