"""When each escalation level of a clock falls due (pure).

A level at fraction ``at`` of the period falls due ``(1 - at) × period`` before the due time, so when a
clock is paused and resumed, or extended, the whole ladder moves with its due time. A ``grace`` is then added
in the responsible authority's calendar (e.g. three working days after the due day).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from engine.deadlines.calendar import add_period
from engine.deadlines.policy import Level


def level_due(
    level: Level, *, due_at: datetime, period_seconds: int, country: str, timezone: str
) -> datetime:
    moment = due_at - timedelta(seconds=round((1 - level.at) * max(period_seconds, 0)))
    if level.grace:
        moment = add_period(moment, level.grace, level.grace_unit, country=country, timezone=timezone)
    return moment


def next_level_due(
    ladder: Sequence[Level],
    level_sent: int,
    *,
    due_at: datetime,
    period_seconds: int,
    country: str,
    timezone: str,
) -> datetime | None:
    """When the first level after ``level_sent`` falls due; None when the ladder is done."""
    if level_sent >= len(ladder):
        return None
    return level_due(
        ladder[level_sent], due_at=due_at, period_seconds=period_seconds, country=country, timezone=timezone
    )


def levels_due(
    ladder: Sequence[Level],
    level_sent: int,
    now: datetime,
    *,
    due_at: datetime,
    period_seconds: int,
    country: str,
    timezone: str,
) -> list[tuple[Level, datetime]]:
    """Levels after ``level_sent`` that have fallen due by ``now``, in order (a sweep that ran late sends the
    reminder and the overdue notice together, never one without the other)."""
    due: list[tuple[Level, datetime]] = []
    for level in ladder[level_sent:]:
        moment = level_due(
            level, due_at=due_at, period_seconds=period_seconds, country=country, timezone=timezone
        )
        if moment > now:
            break
        due.append((level, moment))
    return due


__all__ = ["level_due", "levels_due", "next_level_due"]
