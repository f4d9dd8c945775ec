"""The ``exhorto`` command line: a thin layer over the engine's public API."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.cli._common import LANG_HELP, STATE, USER_HELP, ErrorReportingGroup, configure
from engine.cli.cases import audit_app, case_app, dispatch_command
from engine.cli.directory import authority_app, user_app

app = typer.Typer(cls=ErrorReportingGroup, help="exhorto — electronic mutual legal assistance.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  rich_markup_mode=None)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.callback()
def _root(db: str | None = typer.Option(None, envvar="EXHORTO_DATABASE_URL",
                                       help="database URL (or EXHORTO_DATABASE_URL; default sqlite:///exhorto.db)"),
          lang: str | None = typer.Option(None, envvar="EXHORTO_LANG", help=LANG_HELP),
          user: str | None = typer.Option(None, "--user", "-u", help=USER_HELP)) -> None:
    configure(db, lang, user)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to reach")) -> None:
    """Apply schema migrations (Alembic)."""
    from sqlalchemy.engine import make_url

    from engine.store.db import Database
    from engine.store.migrate import upgrade

    database = Database(STATE.db_url)
    upgrade(database, revision)
    typer.echo(f"database {make_url(database.url).render_as_string(hide_password=True)} at {revision}")


@app.command("lifecycle")
def lifecycle_command(format: str = typer.Option("markdown", help="markdown | mermaid-requesting | "
                                                                  "mermaid-requested")) -> None:
    """Print the transition table and state diagrams."""
    from engine.diagram import document, mermaid
    from engine.lifecycle import Side

    if format.startswith("mermaid-"):
        typer.echo(mermaid(Side(format.removeprefix("mermaid-"))))
    else:
        typer.echo(document(STATE.lang))


@app.command("demo")
def demo_command(out: Path = typer.Option(Path("out/demo"), help="folder for the demo's database and PDFs"),
                 fresh: bool = typer.Option(True, help="start from an empty demo database")) -> None:
    """Seed authorities and users, run two requests through their whole lifecycle, print the summary."""
    from engine.demo import run_demo

    run_demo(out, fresh=fresh, db_url=STATE.db_url)


app.add_typer(authority_app, name="authority")
app.add_typer(user_app, name="user")
app.add_typer(case_app, name="case")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.command("dispatch")(dispatch_command)


def _register_optional() -> None:
    """Sub-commands owned by other modules of the engine."""
    from engine.cli.forms import app as form_app

    app.add_typer(form_app, name="form")
    from engine.cli.deadlines import deadlines_app, orchestrator_app
    from engine.cli.deadlines import register as register_deadlines

    app.add_typer(deadlines_app, name="deadlines")
    app.add_typer(orchestrator_app, name="orchestrator")
    register_deadlines(case_app)
    from engine.cli.stats import privacy_app, stats_command

    app.command("stats")(stats_command)
    app.add_typer(privacy_app, name="privacy")
    from engine.cli.pdf import pdf_command

    app.command("pdf")(pdf_command)
    from engine.cli.web import register as register_web

    register_web(user_app)
    from engine.cli.keys import app as keys_app
    from engine.cli.serve import serve, token_app

    app.add_typer(keys_app, name="keys")
    app.add_typer(token_app, name="token")
    app.command("serve")(serve)
    from engine.cli.observatory import app as observatory_app

    app.add_typer(observatory_app, name="observatory")
    from engine.cli.ops import register as register_ops

    register_ops(app)
    from engine.cli.evidence import register as register_evidence

    register_evidence(case_app)


_register_optional()


def main() -> None:
    app()
