"""Retention on the generated data set (SQLite and PostgreSQL): exactly the expired closed cases are
pseudonymised, nothing personal is left of them anywhere in the database, statistics do not change, every
audit chain still verifies and the redaction itself is chained."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, text
from sqlmodel import col, select

from engine import audit, privacy, stats
from engine.canonical import payload_hash
from engine.store.db import Database
from engine.store.models import AuditEvent, Case
from engine.store.privacy_models import CaseRedaction
from tests.stats.generate import NOW, Dataset, Exchange

YEARS = 1
LAG = timedelta(minutes=3)


def _policy_authorities(data: Dataset) -> list[str]:
    load = Counter([x.requesting for x in data.exchanges] + [x.requested for x in data.exchanges])
    return [code for code, _ in load.most_common(6)]


def _closed_at(x: Exchange, side: str) -> datetime | None:
    t = x.times
    if side == "requesting":
        return t.get("closed") or t.get("withdrawn")
    end = t.get("closed") or t.get("withdrawn")
    return end + LAG if end else None


def _expected_due(data: Dataset, authorities: list[str], now: datetime) -> set[int]:
    cutoff = now.replace(year=now.year - YEARS)
    due = set()
    for x in data.exchanges:
        for side, owner in (("requesting", x.requesting), ("requested", x.requested)):
            closed = _closed_at(x, side)
            if owner in authorities and closed is not None and closed <= cutoff:
                due.add(x.case_ids[side])
    return due


def _dump(db: Database, where: dict[str, str] | None = None) -> str:
    """Every value of every table (optionally only rows matching ``where[table]``), as one string."""
    chunks: list[str] = []
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table == "alembic_version":
                continue
            condition = (where or {}).get(table)
            if where is not None and condition is None:
                continue
            query = f'SELECT * FROM "{table}"' + (f" WHERE {condition}" if condition else "")
            for row in connection.execute(text(query)):
                values = [bytes(v).hex() if isinstance(v, bytes | memoryview) else v for v in row]
                chunks.append(json.dumps(values, default=str, ensure_ascii=False))
    return "\n".join(chunks)


def _tokens(x: Exchange) -> list[str]:
    return [t for p in x.persons for t in p.tokens()] + [x.contact_token, x.contact_token.lower()]


def _stats(db: Database, authority: str) -> dict[str, Any]:
    """Every calendar year of the data set (statistics cover calendar periods only)."""
    years = {}
    for year in ("2024", "2025", "2026"):
        data = stats.as_dict(stats.compute(db, authority, period=year, threshold=1, as_of=NOW))
        data.pop("generated_at")
        years[year] = data
    return years


def test_retention_pseudonymises_exactly_the_expired_cases(erasable: Dataset, erasable_db: Database) -> None:
    db = erasable_db
    authorities = _policy_authorities(erasable)
    before = {code: _stats(db, code) for code in authorities}
    subject = next(
        x
        for x in erasable.exchanges
        if x.requested == authorities[0]
        and x.case_ids["requested"] in _expected_due(erasable, authorities, NOW)
    )
    from engine.guards import Actor
    from engine.lifecycle import Role

    actor = Actor(username="dpo", authority_code=authorities[0], role=Role.SUPERVISOR)
    person = subject.persons[0]
    query = privacy.SubjectQuery(surname=person.surname.upper(), given_names=person.given_names)
    found = privacy.subject_export(db, actor, query, now=NOW)
    assert [c["reference"] for c in found["cases"]]  # found before erasure

    for code in authorities:
        privacy.set_policy(db, code, YEARS, by="dpo")
    without_policy = next(x.requesting for x in erasable.exchanges if x.requesting not in authorities)
    assert privacy.due_cases(db, without_policy, now=NOW) == []
    summary = privacy.run_retention(db, now=NOW, rerender=False)
    expected = _expected_due(erasable, authorities, NOW)
    with db.reader() as session:
        done = set(session.exec(select(CaseRedaction.case_id)))
    assert done == expected and len(expected) > 20
    assert summary.skipped == []
    assert privacy.run_retention(db, now=NOW).redacted == []  # a rerun finds nothing left to do

    # Nothing personal left of an erased case: its row, messages, signed envelopes, audit events, documents.
    by_case = {x.case_ids[side]: x for x in erasable.exchanges for side in ("requesting", "requested")}
    ids = ",".join(str(i) for i in sorted(expected))
    linked = _dump(
        db,
        {
            "case": f"id IN ({ids})",
            "message": f"case_id IN ({ids})",
            "audit_event": f"case_id IN ({ids})",
            "document": f"case_id IN ({ids})",
            "attachment": f"case_id IN ({ids})",
            "access_log": f"case_id IN ({ids})",
            "signed_message": f"message_id IN (SELECT message_id FROM message WHERE case_id IN ({ids}))",
        },
    )
    for case_id in expected:
        for token in _tokens(by_case[case_id]):
            assert token not in linked, (case_id, token)
    # … and nowhere in the database when both sides of the exchange were erased.
    everything = _dump(db)
    both = [
        x
        for x in erasable.exchanges
        if x.case_ids["requesting"] in expected and x.case_ids["requested"] in expected
    ]
    assert both
    for x in both:
        for token in _tokens(x):
            assert token not in everything, token
    # Personal data of cases not yet due is untouched.
    kept = next(
        x
        for x in erasable.exchanges
        if x.requested == authorities[0] and x.case_ids["requested"] not in expected
    )
    assert kept.persons[0].document in everything

    # Statistics are the same, audit chains verify, and each redaction is a chained event.
    assert {code: _stats(db, code) for code in authorities} == before
    with db.reader() as session:
        for code in authorities:
            checked, breaks = audit.verify_all(session, code)
            assert breaks == [] and checked > 0
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == privacy.REDACT_ACTION).order_by(col(AuditEvent.id))
        ).first()
        assert event is not None
        case = session.get(Case, event.case_id)
        assert case is not None and event.seq == case.audit_seq
        assert event.detail["payload"]["after"] == payload_hash(case.payload) == event.payload_hash
        assert event.detail["payload"]["before"] != event.detail["payload"]["after"]
        assert event.detail["policy_years"] == YEARS and event.detail["reason"] == "retention"
        assert case.payload["persons"][0]["surname"] == "[P1]"
        # A silent rewrite of the redaction record is caught.
        event.detail = {**event.detail, "policy_years": 50}
        session.add(event)
        session.flush()
        problem = audit.verify_case(session, case)
        assert problem is not None and "altered" in problem.problem
        session.rollback()

    # The person can no longer be found; the search itself is logged.
    again = privacy.subject_export(db, actor, query, now=NOW)
    assert again["cases"] == [
        c for c in again["cases"] if c["reference"] not in {r["reference"] for r in found["cases"]}
    ]
    entries = privacy.access_log(db, authorities[0], user="dpo")
    assert [e.purpose for e in entries][:1] == ["subject_export"]
    assert privacy.verify_access_logs(db)[1] == []
