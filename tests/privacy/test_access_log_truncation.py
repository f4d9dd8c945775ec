"""Truncating the access log is detected: the attacker writes the database directly (SQL, not the engine), deletes
a whole log with its head row, or cuts its newest entries and rewrites the head to match — the verifier (function and
`exhorto privacy verify`) fails with a clear message. Cutting below what a case's audit chain sealed is caught by
`exhorto audit verify` even when the case's counter is rewritten as well. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlmodel import col, select
from typer.testing import CliRunner

from engine import audit, privacy
from engine.cli import app
from engine.store.db import Database
from engine.store.models import Case
from engine.store.privacy_models import AccessLogEntry, AccessLogHead
from tests.helpers import World, make_world

runner = CliRunner()


def _reads(world: World, case: Case, count: int, user: str = "co.clerk") -> None:
    actor = world.actor("CO-FGN", user.split(".")[1])
    for _ in range(count):
        privacy.read_case(world.db, case.reference, actor=actor, channel="cli", purpose="case.show")


@pytest.fixture
def logged(db: Database) -> tuple[World, Case]:
    """A case read 3 times, then submitted (its audit chain seals 3 reads), then read twice more."""
    world = make_world(db)
    case = world.new_request()
    _reads(world, case, 3)
    world.act(case, "submit", "CO-FGN", "clerk")
    _reads(world, case, 2, "co.judge")
    return world, world.refresh(case)


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    from alembic import command

    from engine.store.migrate import alembic_config

    config = alembic_config(db)  # the schema came from the models: tell the CLI's start-up check it is current
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "head")
    monkeypatch.setenv("EXHORTO_DATABASE_URL", db.url)
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def _cut(db: Database, authority: str, keep: int) -> None:
    """What a DB-level attacker does: delete entries above ``keep`` and rewrite the head to the last one kept."""
    with db.transaction() as session:
        session.execute(delete(AccessLogEntry).where(col(AccessLogEntry.authority_code) == authority,
                                                     col(AccessLogEntry.seq) > keep))
        last = session.exec(select(AccessLogEntry).where(AccessLogEntry.authority_code == authority,
                                                         AccessLogEntry.seq == keep)).first()
        session.execute(update(AccessLogHead).where(col(AccessLogHead.authority_code) == authority)
                        .values(seq=keep, head=last.hash if last else privacy.GENESIS))


def test_intact_log_verifies(logged: tuple[World, Case], cli: Callable[..., Any]) -> None:
    world, case = logged
    assert case.access_reads == 5
    assert privacy.verify_access_logs(world.db) == (1, [])
    result = cli("privacy", "verify")
    assert result.exit_code == 0 and "1 access logs verified" in result.output, result.output
    assert cli("audit", "verify").exit_code == 0


def test_deleting_a_whole_log_and_its_head_is_detected(logged: tuple[World, Case], cli: Callable[..., Any]) -> None:
    world, case = logged
    with world.db.transaction() as session:
        session.execute(delete(AccessLogEntry).where(col(AccessLogEntry.authority_code) == "CO-FGN"))
        session.execute(delete(AccessLogHead).where(col(AccessLogHead.authority_code) == "CO-FGN"))
    checked, breaks = privacy.verify_access_logs(world.db)
    assert checked == 1 and len(breaks) == 1
    assert f"case {case.reference} counts 5 reads but the log holds 0" in str(breaks[0])
    result = cli("privacy", "verify")
    assert result.exit_code != 0, result.output
    assert f"BROKEN access log of CO-FGN: case {case.reference} counts 5 reads" in result.output
    assert "1 of 1 access logs are broken" in result.output
    # Asked about that authority by name, the answer is the same.
    assert cli("privacy", "verify", "--authority", "CO-FGN").exit_code != 0


@pytest.mark.parametrize("keep", [4, 3, 1])
def test_cutting_the_newest_entries_and_rewriting_the_head_is_detected(
        logged: tuple[World, Case], cli: Callable[..., Any], keep: int) -> None:
    world, case = logged
    _cut(world.db, "CO-FGN", keep)
    (_, breaks) = privacy.verify_access_logs(world.db)
    assert [str(b) for b in breaks] == [
        f"access log of CO-FGN: case {case.reference} counts 5 reads but the log holds {keep} "
        "(entries deleted or the case's counter rewritten)"]
    result = cli("privacy", "verify")
    assert result.exit_code != 0 and "BROKEN" in result.output, result.output


def test_rewriting_the_case_counter_below_the_sealed_count_breaks_the_audit_chain(
        logged: tuple[World, Case], cli: Callable[..., Any]) -> None:
    """The attacker also lowers the case's counter to match: the log then verifies, but the case's audit chain
    sealed 3 reads when the request was submitted, and `audit verify` fails."""
    world, case = logged
    _cut(world.db, "CO-FGN", 2)
    with world.db.transaction() as session:
        session.execute(update(Case).where(col(Case.id) == case.id).values(access_reads=2))
    assert privacy.verify_access_logs(world.db) == (1, [])  # the access-log tables alone are consistent …
    with world.db.reader() as session:
        problem = audit.verify_case(session, session.get(Case, case.id))
    assert problem is not None and "counts 2 reads, fewer than the 3 this event sealed" in str(problem)
    result = cli("audit", "verify")  # … but the audit chain is not
    assert result.exit_code != 0 and case.reference in result.output, result.output


def test_the_seal_is_part_of_the_event_hash(logged: tuple[World, Case]) -> None:
    """Lowering the sealed count in the event itself is an edit of the chain."""
    world, case = logged
    with world.db.transaction() as session:
        from engine.store.models import AuditEvent

        session.execute(update(AuditEvent).where(col(AuditEvent.case_id) == case.id, col(AuditEvent.seq) == 2)
                        .values(access_reads=0))
    with world.db.reader() as session:
        problem = audit.verify_case(session, session.get(Case, case.id))
    assert problem is not None and problem.seq == 2 and "hash mismatch" in problem.problem


def test_a_head_noted_outside_the_database_catches_what_the_database_cannot(
        logged: tuple[World, Case], cli: Callable[..., Any]) -> None:
    """The limit, and its remedy: cutting only reads made since the case's last event and lowering its counter to
    match leaves a consistent database (both verifiers pass); a head noted earlier with --heads does not."""
    world, case = logged
    noted = cli("privacy", "verify", "--heads")
    assert noted.exit_code == 0, noted.output
    witness = noted.output.strip().splitlines()[-1]
    assert witness.startswith("CO-FGN:5:") and len(witness.split(":")[2]) == 64
    _cut(world.db, "CO-FGN", 4)
    with world.db.transaction() as session:
        session.execute(update(Case).where(col(Case.id) == case.id).values(access_reads=4))
    assert cli("privacy", "verify").exit_code == 0
    assert cli("audit", "verify").exit_code == 0
    result = cli("privacy", "verify", "--expect", witness)
    assert result.exit_code != 0, result.output
    assert "BROKEN access log of CO-FGN: entry 5: the entry noted outside the database is gone" in result.output
    bad = cli("privacy", "verify", "--expect", "CO-FGN:5:nothex")
    assert bad.exit_code == 2 and "--expect" in bad.output and "Traceback" not in bad.output
