"""The authority's side: build its statistical return for a calendar period and queue it in the outbox, signed
and delivered like any other message, to the observatory it reports to."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from engine.errors import InvalidInput, RoleNotAllowed
from engine.guards import Actor
from engine.ids import new_id
from engine.observatory.figures import raw_rows, suppress
from engine.observatory.periods import Period
from engine.stats._facts import collect
from engine.store.db import Database
from engine.store.models import Message, utcnow
from engine.store.observatory_models import Observatory, ObservatoryMember
from engine.store.queries import load_authority

KIND = "statistical_return"
SCHEMA_ID = "https://exhorto.eu/schemas/statistical_return/v1"
SENDER_ROLES = frozenset({"supervisor"})


def build_return(db: Database, authority: str, period: Period, *, threshold: int,
                 as_of: datetime | None = None) -> dict[str, object]:
    """The return of ``authority`` for ``period`` (requests opened in it, in the authority's timezone):
    aggregates only, suppressed at source. A period is returned only once it is over."""
    as_of = as_of or utcnow()
    with db.reader() as session:
        owner = load_authority(session, authority)
        facts, _ = collect(session, authority)
    zone = ZoneInfo(owner.timezone)
    if as_of.astimezone(zone).date() <= period.end:
        raise InvalidInput(field="period", reason=f"{period.code} is not over yet: a return covers a whole period")
    chosen = [f for f in facts if period.start <= f.opened_at.astimezone(zone).date() <= period.end]
    rows = suppress(raw_rows(chosen), threshold)
    return {"period": period.code, "authority": authority, "threshold": threshold,
            "generated_at": as_of.isoformat(timespec="seconds"), "rows": [r.to_dict() for r in rows]}


def observatories_of(db: Database, authority: str) -> list[str]:
    with db.reader() as session:
        return list(session.exec(select(ObservatoryMember.observatory_code)
                                 .where(ObservatoryMember.member_code == authority)
                                 .order_by(ObservatoryMember.observatory_code)))


def queue_return(db: Database, actor: Actor, period: Period, *, observatory: str | None = None,
                 now: datetime | None = None) -> Message:
    """Queue the actor's authority's return for ``period`` to ``observatory`` (default: the only observatory
    it reports to). The sender and the threshold come from the directory, never from the caller."""
    if actor.role.value not in SENDER_ROLES:
        raise RoleNotAllowed(role=actor.role.value, action="send a statistical return",
                             allowed=", ".join(sorted(SENDER_ROLES)))
    now = now or utcnow()
    targets = observatories_of(db, actor.authority_code)
    if observatory is None:
        if len(targets) != 1:
            raise InvalidInput(field="observatory", reason=f"{actor.authority_code} reports to "
                                                           f"{len(targets)} observatories; name one")
        observatory = targets[0]
    if observatory not in targets:
        raise InvalidInput(field="observatory", reason=f"{actor.authority_code} does not report to {observatory}")
    with db.reader() as session:
        config = session.get(Observatory, observatory)
    assert config is not None  # membership rows reference an observatory
    if period.granularity != config.granularity:
        raise InvalidInput(field="period", reason=f"{observatory} takes {config.granularity} returns, "
                                                  f"not {period.granularity} ones")
    from engine.stats._policy import min_group  # the stricter of the observatory's and the sender's policy

    threshold = max(config.threshold, min_group(db, actor.authority_code))
    payload = build_return(db, actor.authority_code, period, threshold=threshold, as_of=now)
    message = Message(message_id=new_id(), direction="out", exchange_id=new_id(), case_id=None, kind=KIND,
                      sender_code=actor.authority_code, recipient_code=observatory, schema_id=SCHEMA_ID,
                      payload=payload, attachments=[], status="pending", created_at=now, next_attempt_at=now)
    with db.transaction() as session:
        session.add(message)
    return message
