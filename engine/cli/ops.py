"""`exhorto backup FILE`, `exhorto restore FILE` and `exhorto stack up` (the production topology, locally)."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.cli._common import STATE

stack_app = typer.Typer(help="The production topology on this machine (PostgreSQL, Prefect server, API).",
                        no_args_is_help=True)


def _summary(verb: str, report: object) -> None:
    from engine.backup import Report

    assert isinstance(report, Report)
    typer.echo(f"{verb} {report.file} ({report.dialect}): {report.rows} rows in {len(report.counts)} tables; "
               f"audit chains of {report.cases_verified} cases verified")


def backup_command(file: Path = typer.Argument(..., help="where to write the backup"),
                   force: bool = typer.Option(False, help="overwrite FILE if it exists")) -> None:
    """Back up the database (SQLite online backup or pg_dump) with a manifest of row counts."""
    from engine.backup import backup
    from engine.store.db import Database

    # As it is: a backup never migrates the schema of the database it copies.
    _summary("backed up to", backup(Database(STATE.db_url), file, force=force))


def restore_command(file: Path = typer.Argument(..., help="a file written by `exhorto backup`"),
                    force: bool = typer.Option(False, help="replace a database holding data")) -> None:
    """Restore a backup into the database, then verify row counts and every audit chain."""
    from engine.backup import restore
    from engine.store.db import Database

    _summary("restored", restore(file, Database(STATE.db_url), force=force))


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.add_typer(stack_app, name="stack")
