"""The personal-data access log: who read which case's personal data, when, through which channel.

Each authority has its own append-only chain (``hash = sha256(prev_hash + canonical JSON of the entry)``) with
its head in ``access_log_head``. Appending moves the head by compare-and-set on ``seq`` and retries when a
concurrent reader won, so a read never waits on the case row that a lifecycle action holds, and the case's own
audit chain (whose head lives on the case row) stays a record of what was *done*, not of what was *looked at*.

Record before showing: callers log first and only then hand the data out, so a failed log means no read.
:func:`read_case` is that one door (authorization, then the log entry, then the case) for every entry point
that shows a case's personal data: CLI, API, web.

Truncation: the chain alone cannot show that its newest entries (or the whole log, head included) were deleted
by someone who can write the tables. Each entry about a case therefore also moves ``case.access_reads`` in the same
transaction, and :func:`verify_access_log` checks that every case's count equals the entries the log holds for
it: deleting entries means rewriting the counters of the cases they name as well (see docs/privacy.md for what
this does and does not stop).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from engine.canonical import canonical_json, sha256_hex
from engine.guards import Actor
from engine.i18n import N_
from engine.lifecycle import Role
from engine.privacy._errors import AccessLogBusy, AccessLogUnavailable, NotAuthorisedForPersonalData
from engine.store.db import Database
from engine.store.models import Case, utcnow
from engine.store.privacy_models import AccessLogEntry, AccessLogHead
from engine.store.upsert import insert_ignore

GENESIS = "0" * 64
log = logging.getLogger(__name__)
CHANNELS = ("cli", "api", "web", "pdf", "export", "flow")
_ATTEMPTS = 20


@dataclass(frozen=True)
class Read:
    """One read to record: a case (or None for a search that matched nothing) and what was read."""

    purpose: str
    case: Case | None = None
    detail: dict[str, Any] | None = None


def entry_hash(
    prev_hash: str,
    *,
    authority: str,
    seq: int,
    at: datetime,
    username: str,
    channel: str,
    purpose: str,
    case_reference: str | None,
    detail: dict[str, Any],
) -> str:
    body = {
        "authority": authority,
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "user": username,
        "channel": channel,
        "purpose": purpose,
        "case": case_reference,
        "detail": detail,
    }
    return sha256_hex(prev_hash.encode() + canonical_json(body))


def record_access(
    db: Database,
    actor: Actor,
    *,
    channel: str,
    purpose: str,
    case: Case | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AccessLogEntry:
    """Record one read of personal data by ``actor`` (call it before showing the data)."""
    return record_accesses(db, actor, channel=channel, reads=[Read(purpose, case, detail)], now=now)[0]


def read_case(
    db: Database,
    case: int | str,
    *,
    actor: Actor,
    channel: str,
    purpose: str,
    detail: dict[str, Any] | None = None,
) -> Case:
    """The case, for showing its personal data: authorised (another authority's case is "not found"), then logged.

    If the log entry cannot be written the caller gets the error, never the case."""
    from engine.cases import get_case

    record = get_case(db, case, actor=actor)
    record_access(db, actor, channel=channel, purpose=purpose, case=record, detail=detail)
    return record


def record_accesses(
    db: Database, actor: Actor, *, channel: str, reads: Sequence[Read], now: datetime | None = None
) -> list[AccessLogEntry]:
    """Record several reads by one user in one transaction (e.g. the cases of a subject-access export)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
    for read in reads:
        if read.case is not None and read.case.authority_code != actor.authority_code:
            raise NotAuthorisedForPersonalData(
                user=actor.username, authority=actor.authority_code, owner=read.case.authority_code
            )
    now = now or utcnow()
    for _ in range(_ATTEMPTS):
        try:
            with db.transaction() as session:
                entries = _append(session, actor, channel, reads, now)
                if entries is not None:
                    _retrieved(session, actor, reads, now)
                    return entries
        except SQLAlchemyError as error:  # whatever stopped the entry, the caller must not show the data
            log.error("access log of %s not written: %s", actor.authority_code, error)
            raise AccessLogUnavailable(authority=actor.authority_code) from error
    raise AccessLogBusy(authority=actor.authority_code)


def _retrieved(session: Session, actor: Actor, reads: Sequence[Read], now: datetime) -> None:
    """A person of the requested authority opening a case is the e-CODEX "Retrieval" of the request it got."""
    if actor.role == Role.SYSTEM:
        return
    from engine import evidence

    for case in {read.case.id: read.case for read in reads if read.case is not None}.values():
        evidence.on_first_read(session, case, now)


def _append(
    session: Session, actor: Actor, channel: str, reads: Sequence[Read], now: datetime
) -> list[AccessLogEntry] | None:
    """Append the entries and move the head; None when a concurrent writer moved it first (retry)."""
    authority = actor.authority_code
    # Cases first (in id order), then the head: a read waits only for an action on the same case, and never holds
    # the authority's head (which every other read of the authority needs) while it waits.
    _count_reads(session, reads)
    insert_ignore(session, AccessLogHead, {"authority_code": authority, "seq": 0, "head": GENESIS})
    head = session.exec(select(AccessLogHead).where(AccessLogHead.authority_code == authority)).one()
    start_seq, prev = head.seq, head.head
    entries: list[AccessLogEntry] = []
    for offset, read in enumerate(reads, start=1):
        detail = dict(read.detail or {})
        reference = read.case.reference if read.case is not None else None
        digest = entry_hash(
            prev,
            authority=authority,
            seq=start_seq + offset,
            at=now,
            username=actor.username,
            channel=channel,
            purpose=read.purpose,
            case_reference=reference,
            detail=detail,
        )
        entries.append(
            AccessLogEntry(
                authority_code=authority,
                seq=start_seq + offset,
                at=now,
                username=actor.username,
                channel=channel,
                purpose=read.purpose,
                case_id=read.case.id if read.case is not None else None,
                case_reference=reference,
                detail=detail,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    moved = session.execute(
        update(AccessLogHead)
        .where(col(AccessLogHead.authority_code) == authority, col(AccessLogHead.seq) == start_seq)
        .values(seq=start_seq + len(entries), head=prev)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return None
    session.add_all(entries)
    return entries


def _count_reads(session: Session, reads: Sequence[Read]) -> None:
    """Move each read case's counter with its log entries (same transaction): the truncation anchor."""
    per_case: dict[int, int] = {}
    for read in reads:
        if read.case is not None and read.case.id is not None:
            per_case[read.case.id] = per_case.get(read.case.id, 0) + 1
    for case_id, count in sorted(per_case.items()):  # one lock order for every writer
        session.execute(
            update(Case)
            .where(col(Case.id) == case_id)
            .values(access_reads=col(Case.access_reads) + count)
            .execution_options(synchronize_session=False)
        )


MISSING = N_("missing (deleted or renumbered)")
PREV_MISMATCH = N_("prev_hash does not match the previous entry")
ALTERED = N_("content altered (hash mismatch)")
HEAD_MISMATCH = N_("newest entries missing (head mismatch)")
COUNT_MISMATCH = N_(
    "case {case} counts {counted} reads but the log holds {logged} (entries deleted or the case's counter rewritten)"
)

WITNESS_GONE = N_("the entry noted outside the database is gone (log truncated)")
WITNESS_DIFFERS = N_("the entry differs from the hash noted outside the database (log rewritten)")


@dataclass(frozen=True)
class Witness:
    """An authority's head as noted outside the database (``AUTHORITY:SEQ:HASH``): the one thing a database-level
    attacker cannot rewrite. ``exhorto privacy verify --heads`` prints them, ``--expect`` checks them later."""

    authority: str
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.authority}:{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Witness:
        from engine.errors import InvalidInput

        parts = text.strip().split(":")
        if (len(parts) != 3 or not parts[0] or not parts[1].isdigit() or len(parts[2]) != 64
                or any(c not in "0123456789abcdef" for c in parts[2])):
            raise InvalidInput(field="--expect", reason=f"{text!r} is not AUTHORITY:SEQ:SHA-256 (64 hex digits)")
        return cls(parts[0], int(parts[1]), parts[2])


@dataclass(frozen=True)
class AccessLogBreak:
    authority: str
    seq: int | None  # None: not one entry (a case's read count disagrees with the log)
    problem: str  # msgid, formatted with ``params``
    params: tuple[tuple[str, Any], ...] = ()

    def describe(self, lang: str | None = None) -> str:
        from engine.i18n import translate

        problem = (translate(lang, self.problem) if lang else self.problem).format(**dict(self.params))
        where = f"entry {self.seq}: " if self.seq is not None else ""
        return f"access log of {self.authority}: {where}{problem}"

    def __str__(self) -> str:
        return self.describe()


def verify_access_log(session: Session, authority: str) -> AccessLogBreak | None:
    """The first broken link of an authority's access-log chain, or None when it is intact.

    Besides the chain and its head, each case of the authority must count exactly the entries the log holds for
    it: that is what shows a log cut at its end (head rewritten) or deleted altogether (head row included)."""
    entries = session.exec(
        select(AccessLogEntry)
        .where(AccessLogEntry.authority_code == authority)
        .order_by(col(AccessLogEntry.seq))
    ).all()
    head = session.get(AccessLogHead, authority)
    prev = GENESIS
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected:
            return AccessLogBreak(authority, expected, MISSING)
        if entry.prev_hash != prev:
            return AccessLogBreak(authority, entry.seq, PREV_MISMATCH)
        recomputed = entry_hash(
            prev,
            authority=authority,
            seq=entry.seq,
            at=entry.at,
            username=entry.username,
            channel=entry.channel,
            purpose=entry.purpose,
            case_reference=entry.case_reference,
            detail=entry.detail,
        )
        if recomputed != entry.hash:
            return AccessLogBreak(authority, entry.seq, ALTERED)
        prev = entry.hash
    head_seq, head_hash = (head.seq, head.head) if head is not None else (0, GENESIS)
    if head_seq != len(entries) or head_hash != prev:
        return AccessLogBreak(authority, len(entries) + 1, HEAD_MISMATCH)
    return _counts_problem(session, authority, entries)


def _counts_problem(session: Session, authority: str, entries: Sequence[AccessLogEntry]) -> AccessLogBreak | None:
    logged: dict[int, int] = {}
    for entry in entries:
        if entry.case_id is not None:
            logged[entry.case_id] = logged.get(entry.case_id, 0) + 1
    rows = session.execute(
        select(col(Case.id), col(Case.reference), col(Case.access_reads))
        .where(col(Case.authority_code) == authority,
               or_(col(Case.access_reads) != 0, col(Case.id).in_(list(logged))))
        .order_by(col(Case.id))
    ).all()
    for case_id, reference, counted in rows:
        if logged.get(case_id, 0) != counted:
            params = (("case", reference), ("counted", counted), ("logged", logged.get(case_id, 0)))
            return AccessLogBreak(authority, None, COUNT_MISMATCH, params)
    return None


def witness_problem(session: Session, witness: Witness) -> AccessLogBreak | None:
    """Whether the log still holds the entry a witness noted, unchanged."""
    entry = session.exec(select(AccessLogEntry).where(AccessLogEntry.authority_code == witness.authority,
                                                      AccessLogEntry.seq == witness.seq)).first()
    if witness.seq == 0:
        return None
    if entry is None:
        return AccessLogBreak(witness.authority, witness.seq, WITNESS_GONE)
    if entry.hash != witness.hash:
        return AccessLogBreak(witness.authority, witness.seq, WITNESS_DIFFERS)
    return None


def heads(db: Database, authorities: Iterable[str] | None = None) -> list[Witness]:
    """Each authority's current head, to note outside the database."""
    with db.reader() as session:
        codes = list(authorities) if authorities is not None else _logging_authorities(session)
        found = {h.authority_code: h for h in session.exec(select(AccessLogHead))}
    return [Witness(code, found[code].seq, found[code].head) if code in found else Witness(code, 0, GENESIS)
            for code in codes]


def verify_access_logs(
    db: Database, authorities: Iterable[str] | None = None, witnesses: Iterable[Witness] = ()
) -> tuple[int, list[AccessLogBreak]]:
    """Verify the access-log chain of each authority (all that have one by default), and that the entries noted
    outside the database (``witnesses``) are still there."""
    with db.reader() as session:
        codes = (
            list(authorities)
            if authorities is not None
            else _logging_authorities(session)
        )
        breaks = [b for code in codes if (b := verify_access_log(session, code)) is not None]
        breaks += [b for w in witnesses if (b := witness_problem(session, w)) is not None]
    return len(codes), breaks


def _logging_authorities(session: Session) -> list[str]:
    """Authorities with a log head, and those whose cases count reads (a log deleted with its head is still
    checked: its cases remember that it existed)."""
    heads = set(session.exec(select(AccessLogHead.authority_code)))
    counted = set(session.exec(select(Case.authority_code).where(col(Case.access_reads) != 0).distinct()))
    return sorted(heads | counted)


def access_log(
    db: Database,
    authority: str,
    *,
    case: Case | None = None,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[AccessLogEntry]:
    """Entries of an authority's log, newest first, optionally for one case, one user or a time window."""
    with db.reader() as session:
        query = select(AccessLogEntry).where(AccessLogEntry.authority_code == authority)
        if case is not None:
            query = query.where(AccessLogEntry.case_id == case.id)
        if user:
            query = query.where(AccessLogEntry.username == user)
        if since is not None:
            query = query.where(col(AccessLogEntry.at) >= since)
        if until is not None:
            query = query.where(col(AccessLogEntry.at) < until)
        return list(session.exec(query.order_by(col(AccessLogEntry.seq).desc()).limit(limit)))
