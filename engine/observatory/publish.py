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
from engine.observatory.figures import Row, combine
from engine.observatory.periods import GRANULARITIES, Period
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
    parts = period.parts(observatory.granularity)
    tables, reporters = [], set()
    for part in parts:
        mine = [r for r in received if r.period == part.code]
        reporters |= {r.sender_code for r in mine}
        tables.append(combine(([Row.from_dict(x) for x in r.figures["rows"]] for r in mine),
                              observatory.threshold))
    rows = tables[0] if len(tables) == 1 else combine(tables, observatory.threshold)
    return Published(observatory=code, period=period, threshold=observatory.threshold,
                     granularity=observatory.granularity, reporters=sorted(reporters), rows=rows)
