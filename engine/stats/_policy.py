"""Who may read which authority's statistics, and the smallest group they publish: the one path that the
CLI, the REST API and the web pages call.

* An authority's statistics are read by its own users (any role: they are aggregates), and by the users of an
  observatory the authority reports to. Nobody else: an auditor audits their own authority.
* The smallest group is the authority's policy (``disclosure_policy``, default 5). Only a supervisor changes
  it; every change is a new row (who, when, from what), never an update. A user may ask for a *larger* group
  (more suppression) for one report, never a smaller one.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from engine.errors import InvalidInput, MinGroupBelowPolicy, RoleNotAllowed, StatisticsNotAllowed
from engine.guards import Actor
from engine.lifecycle import Role
from engine.store.db import Database
from engine.store.models import utcnow
from engine.store.observatory_models import ObservatoryMember
from engine.store.privacy_models import DisclosurePolicy
from engine.store.queries import load_authority

DEFAULT_THRESHOLD = 5
MAX_THRESHOLD = 1000


def authorize(db: Database, actor: Actor, authority: str | None) -> str:
    """The authority whose statistics ``actor`` reads (its own when ``authority`` is None), or
    :class:`StatisticsNotAllowed`."""
    code = authority or actor.authority_code
    if code == actor.authority_code:
        return code
    with db.reader() as session:
        load_authority(session, code)
        member = session.get(ObservatoryMember, (actor.authority_code, code))
    if member is None:
        raise StatisticsNotAllowed(user=actor.username, authority=code)
    return code


def policy_history(db: Database, authority: str) -> list[DisclosurePolicy]:
    """Every change of ``authority``'s smallest group, oldest first."""
    with db.reader() as session:
        query = select(DisclosurePolicy).where(DisclosurePolicy.authority_code == authority)
        return list(session.exec(query.order_by(col(DisclosurePolicy.id))))


def min_group(db: Database, authority: str) -> int:
    """The smallest published group in force for ``authority``."""
    with db.reader() as session:
        query = select(DisclosurePolicy).where(DisclosurePolicy.authority_code == authority)
        newest = session.exec(query.order_by(col(DisclosurePolicy.id).desc()).limit(1)).first()
    return newest.min_group if newest is not None else DEFAULT_THRESHOLD


def set_min_group(db: Database, actor: Actor, value: int, *, now: datetime | None = None) -> DisclosurePolicy:
    """Change the smallest group of the actor's authority (supervisors only); recorded, never overwritten."""
    if actor.role != Role.SUPERVISOR:
        raise RoleNotAllowed(role=actor.role.value, action="set the smallest published group", allowed="supervisor")
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= MAX_THRESHOLD:
        raise InvalidInput(field="min_group", reason=f"between 2 and {MAX_THRESHOLD}")
    before = min_group(db, actor.authority_code)
    with db.transaction() as session:
        load_authority(session, actor.authority_code)
        row = DisclosurePolicy(
            authority_code=actor.authority_code, min_group=value, previous=before, set_by=actor.username,
            set_at=now or utcnow(),
        )
        session.add(row)
    return row


def threshold_for(db: Database, authority: str, requested: int | None, field: str = "min_group") -> int:
    """The policy's smallest group, or a larger one the user asked for; a smaller one is refused."""
    policy = min_group(db, authority)
    if requested is None:
        return policy
    if isinstance(requested, bool) or not isinstance(requested, int) or requested > MAX_THRESHOLD:
        raise InvalidInput(field=field, reason=f"at most {MAX_THRESHOLD}")
    if requested < policy:
        raise MinGroupBelowPolicy(field=field, authority=authority, policy=policy)
    return requested
