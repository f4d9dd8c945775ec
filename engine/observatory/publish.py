"""The observatory's side: its configuration (who it is, whom it trusts) and the combined table it publishes.

A published table is built only from tables of the observatory's own granularity: the table of a base period
combines the returns received for it; a longer period (a year made of quarters) adds up the *published* tables
of its base periods, a row hidden in any of them staying hidden. A longer period is therefore a function of
what was already published and differencing a year against its quarters reveals nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from engine.errors import DuplicateEntry, InvalidInput
from engine.observatory.figures import Row, add_up, protect_periods, published
from engine.observatory.periods import GRANULARITIES, Period, parse_period
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.observatory_models import Observatory, ObservatoryMember, StatisticalReturn
from engine.store.queries import load_authority


@dataclass
class Published:
    observatory: str
    period: Period
    threshold: int
    granularity: str
    reporters: list[str]  # authorities whose returns are in it (every base period)
    rows: list[Row]
    generated_at: datetime = field(default_factory=utcnow)


def register(db: Database, code: str, *, granularity: str = "year", threshold: int = 5) -> Observatory:
    if granularity not in GRANULARITIES:
        raise InvalidInput(field="granularity", reason=f"{granularity!r}; one of {', '.join(GRANULARITIES)}")
    if not 1 <= threshold <= 1000:
        raise InvalidInput(field="threshold", reason="between 1 and 1000")
    with db.transaction() as session:
        load_authority(session, code)
        if session.get(Observatory, code) is not None:
            raise DuplicateEntry(entity="Observatory", key=code)
        row = Observatory(code=code, granularity=granularity, threshold=threshold)
        session.add(row)
    return row


def add_member(db: Database, observatory: str, member: str) -> None:
    """``member`` reports to ``observatory`` (both registered in the directory)."""
    with db.transaction() as session:
        if session.get(Observatory, observatory) is None:
            raise InvalidInput(field="observatory", reason=f"{observatory} is not registered as an observatory")
        load_authority(session, member)
        if session.get(ObservatoryMember, (observatory, member)) is not None:
            raise DuplicateEntry(entity="ObservatoryMember", key=f"{observatory}/{member}")
        session.add(ObservatoryMember(observatory_code=observatory, member_code=member))


def config(db: Database, code: str) -> Observatory:
    with db.reader() as session:
        row = session.get(Observatory, code)
    if row is None:
        raise InvalidInput(field="observatory", reason=f"{code} is not registered as an observatory")
    return row


def received_returns(db: Database, code: str) -> list[StatisticalReturn]:
    with db.reader() as session:
        return list(session.exec(select(StatisticalReturn).where(StatisticalReturn.observatory_code == code)
                                 .order_by(col(StatisticalReturn.period), col(StatisticalReturn.sender_code))))


def publish(db: Database, code: str, period: Period) -> Published:
    observatory = config(db, code)
    received = received_returns(db, code)
    # The whole calendar year is one release: whichever of its periods is asked for is read from the year,
    # its quarters and months protected together, so periods cannot be differenced against each other.
    year = parse_period(str(period.start.year))
    levels = GRANULARITIES[: GRANULARITIES.index(observatory.granularity) + 1]
    base, children = {}, {}
    for part in year.parts(observatory.granularity):
        mine = [r for r in received if r.period == part.code]
        base[part.code] = add_up([Row.from_dict(x) for x in r.figures["rows"]] for r in mine)
    for level, finer in zip(levels, levels[1:], strict=False):
        for parent in year.parts(level):
            children[parent.code] = [p.code for p in parent.parts(finer)]
    if period.code not in base and period.code not in children:
        raise InvalidInput(field="period", reason=f"{period.code} is shorter than a {observatory.granularity}")
    reporters = {r.sender_code for r in received if period.contains(parse_period(r.period))}
    rows = published(protect_periods(base, children, observatory.threshold)[period.code])
    return Published(observatory=code, period=period, threshold=observatory.threshold,
                     granularity=observatory.granularity, reporters=sorted(reporters), rows=rows)
