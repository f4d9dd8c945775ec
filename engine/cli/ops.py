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


DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/exhorto"


@stack_app.command("up")
def stack_up(
    database_url: str = typer.Option(DEFAULT_URL, envvar="EXHORTO_DATABASE_URL",
                                     help="the node's PostgreSQL database (created if absent)"),
    prefect_database: str = typer.Option("exhorto_prefect", help="Prefect's own database on the same server"),
    api_port: int = typer.Option(8000, help="port of the API (REST, inbox, web UI)"),
    prefect_port: int = typer.Option(4200, help="port of the Prefect server and UI"),
    workers: int = typer.Option(2, min=1, help="uvicorn worker processes for the API"),
    sweep_every: int = typer.Option(900, min=5, help="seconds between scheduled deadline sweeps"),
    dispatch_every: int = typer.Option(60, min=5, help="seconds between scheduled outbox dispatches"),
    api_dispatch_every: float = typer.Option(0.0, help="API workers also deliver the outbox every N s"),
    home: Path = typer.Option(Path(".exhorto-stack"), help="folder for logs and Prefect's home"),
    startup_timeout: float = typer.Option(180.0, help="seconds to wait for each service"),
) -> None:
    """Start PostgreSQL-backed Prefect server, scheduled flows and the API on loopback; Ctrl-C stops all."""
    from engine.ops.stack import StackConfig, up

    config = StackConfig(database_url=database_url, prefect_database=prefect_database, api_port=api_port,
                         prefect_port=prefect_port, workers=workers, sweep_every=sweep_every,
                         dispatch_every=dispatch_every, api_dispatch_every=api_dispatch_every,
                         home=home.resolve(), startup_timeout=startup_timeout)
    raise typer.Exit(up(config, say=typer.echo))
