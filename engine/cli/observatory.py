"""`exhorto observatory …`: act as a joint observatory, report to one, publish the combined figures."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.cli._common import STATE, current_user, fail
from engine.errors import InvalidInput

app = typer.Typer(help="Joint observatories: statistical returns and combined figures.", no_args_is_help=True)
USER = typer.Option(None, "--user", "-u", help="acting user (or EXHORTO_USER)")


@app.command("register")
def register_command(
    code: str = typer.Argument(..., help="authority of the directory that acts as observatory"),
    granularity: str = typer.Option("year", help="year | quarter | month: the only period its returns cover"),
    min_group: int = typer.Option(5, "--min-group", help="smallest group published"),
) -> None:
    """Register an authority of the directory as an observatory (on its node and on its members' nodes)."""
    from engine import observatory

    row = observatory.register(STATE.db(), code, granularity=granularity, threshold=min_group)
    typer.echo(f"{row.code}: observatory, {row.granularity} returns, groups below {row.threshold} suppressed")


@app.command("member")
def member_command(code: str = typer.Argument(..., help="the observatory's authority code"),
                   member: str = typer.Argument(..., help="authority that reports to it")) -> None:
    """MEMBER reports to observatory CODE (where to send returns; whose returns are trusted)."""
    from engine import observatory

    observatory.add_member(STATE.db(), code, member)
    typer.echo(f"{member} reports to {code}")


@app.command("send")
def send_command(
    period: str = typer.Option(..., help="2026 | 2026-Q1 | 2026-03 (a whole, past period)"),
    to: str | None = typer.Option(None, "--to", help="observatory (default: the only one)"),
    user: str | None = USER,
) -> None:
    """Queue the acting supervisor's authority's return; `exhorto dispatch` (or the outbox flow) delivers it."""
    from engine import directory, observatory

    actor = directory.actor_for(STATE.db(), current_user(user))
    message = observatory.queue_return(STATE.db(), actor, observatory.parse_period(period, "--period"),
                                       observatory=to)
    typer.echo(f"return {message.payload['period']} of {message.sender_code} queued for {message.recipient_code} "
               f"(message {message.message_id})")


@app.command("returns")
def returns_command(user: str | None = USER) -> None:
    """Returns accepted by the acting user's observatory."""
    from engine import directory, observatory

    actor = directory.actor_for(STATE.db(), current_user(user))
    observatory.config(STATE.db(), actor.authority_code)
    for r in observatory.received_returns(STATE.db(), actor.authority_code):
        typer.echo(f"{r.period:8} {r.sender_code:12} {r.received_at:%Y-%m-%d %H:%M}Z {r.message_id}")


@app.command("report")
def report_command(
    period: str = typer.Option(..., help="2026 | 2026-Q1 | 2026-03"),
    format: str = typer.Option("md", "--format", help="md | csv | json | sdmx"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write to this file instead of stdout"),
    user: str | None = USER,
) -> None:
    """The combined figures of the acting user's observatory for a period (suppressed again)."""
    from engine import directory, observatory

    if format not in observatory.FORMATS:
        raise InvalidInput(field="--format", reason=f"{format!r}; choose one of {', '.join(observatory.FORMATS)}")
    actor = directory.actor_for(STATE.db(), current_user(user))
    table = observatory.publish(STATE.db(), actor.authority_code, observatory.parse_period(period, "--period"))
    if not table.reporters:
        raise fail(f"{actor.authority_code} has received no return for {period}")
    text = observatory.render(table, format, STATE.lang)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)
