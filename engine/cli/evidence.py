"""`exhorto case evidence REF --out DIR`: a case's delivery evidences as JSON and a signed PDF summary."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.cli._common import STATE, current_user
from engine.i18n import N_, translate

WROTE = N_("{count} evidences written to {json} and {pdf}.")
PDF_UNSIGNED = N_("The summary PDF is not signed: authority {authority} has no certificate on this node.")
CASE = typer.Argument(..., help="case reference (e.g. CO-FGN/2026/000001) or id")
USER = typer.Option(None, "--user", "-u", help="acting user (or EXHORTO_USER)")


def case_evidence(case: str = CASE, out: Path = typer.Option(..., "--out", help="folder to write into"),
                  user: str | None = USER) -> None:
    """Export the case's e-CODEX / ETSI REM delivery evidences (JSON + PAdES-signed PDF summary)."""
    from engine import directory, evidence
    from engine.privacy import read_case

    db = STATE.db()
    actor = directory.actor_for(db, current_user(user))
    record = read_case(db, case, actor=actor, channel="cli", purpose="case.evidence")  # logged before it is written
    exported = evidence.export(db, record, out, STATE.lang)
    from engine.privacy import record_files

    record_files(db, authority=actor.authority_code, actor=actor.username, kind="evidence",
                 paths=[exported.json_path, exported.pdf_path], cases=[record])
    typer.echo(translate(STATE.lang, WROTE).format(count=exported.count, json=exported.json_path,
                                                   pdf=exported.pdf_path))
    if not exported.pdf_signed:
        typer.echo(translate(STATE.lang, PDF_UNSIGNED).format(authority=record.authority_code), err=True)


def register(case_app: typer.Typer) -> None:
    case_app.command("evidence")(case_evidence)
