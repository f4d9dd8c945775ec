"""`exhorto stats` (statistics for observatories) and `exhorto privacy …` (access log, retention, subject
access export)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from engine.cli._common import STATE, current_user, fail
from engine.errors import InvalidInput
from engine.i18n import N_, translate

SCRUB_INCOMPLETE = N_("Warning: old copies of the erased data may remain in the database files ({detail}); the "
                      "next retention run tries again.")
FILE_OUTSIDE = N_("Warning: case {case}: a file written outside the database still holds its personal data "
                  "and must be deleted by hand: {path}")

privacy_app = typer.Typer(
    help="Personal data: access log, retention, subject access export.", no_args_is_help=True
)
retention_app = typer.Typer(
    help="Retention policy and pseudonymisation of expired closed cases.", no_args_is_help=True
)
privacy_app.add_typer(retention_app, name="retention")

USER = typer.Option(None, "--user", "-u", help="acting user (or EXHORTO_USER)")


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field=field, reason=f"{value!r} is not a date (YYYY-MM-DD)") from None


def stats_command(
    period_from: str | None = typer.Option(None, "--from", help="first day (YYYY-MM-DD), local time"),
    period_to: str | None = typer.Option(None, "--to", help="last day, inclusive"),
    period: str | None = typer.Option(None, "--period", help="a calendar period instead: 2026, 2026-Q1, 2026-03"),
    format: str = typer.Option("md", "--format", help="csv | json | md"),
    chart: Path | None = typer.Option(None, "--chart", help="also write a chart (FILE.png or FILE.svg)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write to this file instead of stdout"),
    min_group: int | None = typer.Option(None, "--min-group",
                                         help="a larger smallest group than the authority's policy (never smaller)"),
    authority: str | None = typer.Option(None, help="authority (default: the acting user's)"),
    user: str | None = USER,
) -> None:
    """Statistics of requests sent and received in a period (aggregates only, small groups suppressed)."""
    from engine import directory, stats

    if format not in stats.FORMATS:
        raise InvalidInput(field="--format", reason=f"{format!r}; choose one of {', '.join(stats.FORMATS)}")
    if chart is not None and chart.suffix.lower().lstrip(".") not in stats.CHART_FORMATS:
        raise InvalidInput(field="--chart", reason=f"{chart.name}: the file name must end in .png or .svg")
    actor = directory.actor_for(STATE.db(), current_user(user))
    code = stats.authorize(STATE.db(), actor, authority)  # the one authorization path (also API and web)
    threshold = stats.threshold_for(STATE.db(), code, min_group, "--min-group")
    if period is not None:
        if period_from or period_to:
            raise InvalidInput(field="--period", reason="give either --period or --from and --to")
        span = stats.parse_period(period, "--period")
    elif period_from and period_to:
        first, last = _date(period_from, "--from"), _date(period_to, "--to")
        span = stats.calendar_period(first, last, ("--from", "--to"))
    else:
        raise InvalidInput(field="--period", reason="give --period (2026, 2026-Q1, 2026-03)")
    report = stats.compute(STATE.db(), code, period=span, threshold=threshold)
    text = stats.render(report, format, STATE.lang)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)
    if chart is not None:
        stats.write_chart(report, chart, STATE.lang)
        typer.echo(f"chart written to {chart}", err=True)


# --- privacy -------------------------------------------------------------------------------------------
@privacy_app.command("log")
def privacy_log(
    case: str | None = typer.Option(None, help="only reads of this case"),
    of_user: str | None = typer.Option(None, "--of", help="only reads by this user"),
    limit: int = typer.Option(100, help="show at most this many entries"),
    user: str | None = USER,
) -> None:
    """Who read personal data of the acting user's authority (newest first)."""
    from engine import directory, privacy
    from engine.cases import get_case

    actor = directory.actor_for(STATE.db(), current_user(user))
    record = get_case(STATE.db(), case, actor=actor) if case else None
    for e in privacy.access_log(STATE.db(), actor.authority_code, case=record, user=of_user, limit=limit):
        typer.echo(
            f"{e.seq:6} {e.at:%Y-%m-%d %H:%M:%S}Z {e.username:20} {e.channel:6} {e.purpose:18} "
            f"{e.case_reference or '-'}"
        )


@privacy_app.command("verify")
def privacy_verify(
    authority: str | None = typer.Option(None, help="only this authority's log"),
    expect: list[str] = typer.Option([], "--expect", metavar="AUTHORITY:SEQ:HASH",
                                     help="a head noted earlier with --heads: the entry must still be there"),
    show_heads: bool = typer.Option(False, "--heads", help="also print each head as AUTHORITY:SEQ:HASH, to keep "
                                                           "outside the database"),
) -> None:
    """Check the hash chains of the access logs (and that no case counts more reads than its log holds)."""
    from engine import privacy

    witnesses = [privacy.Witness.parse(text) for text in expect]
    scope = [authority] if authority else None
    checked, breaks = privacy.verify_access_logs(STATE.db(), scope, witnesses)
    for problem in breaks:
        typer.echo(f"BROKEN {problem.describe(STATE.lang)}")
    if breaks:
        raise fail(f"{len(breaks)} of {checked} access logs are broken")
    typer.echo(f"{checked} access logs verified")
    if show_heads:
        for head in privacy.heads(STATE.db(), scope):
            typer.echo(str(head))


@privacy_app.command("export")
def privacy_export(
    surname: str | None = typer.Option(None, help="the person's surname"),
    given_names: str | None = typer.Option(None, help="the person's given names"),
    birth_date: str | None = typer.Option(None, help="YYYY-MM-DD"),
    document: str | None = typer.Option(None, help="identity document number"),
    out: Path = typer.Option(..., help="file prefix: writes OUT.json and OUT.pdf"),
    pdf: bool = typer.Option(True, help="also write the PDF"),
    user: str | None = USER,
) -> None:
    """Data-subject access export: what the authority holds about one person (JSON + PDF)."""
    from engine import directory, privacy

    if birth_date is not None:
        _date(birth_date, "--birth-date")
    actor = directory.actor_for(STATE.db(), current_user(user))
    query = privacy.SubjectQuery(
        surname=surname, given_names=given_names, birth_date=birth_date, document_number=document
    )
    data = privacy.subject_export(STATE.db(), actor, query, channel="export")
    json_path = out.with_name(out.name + ".json")
    json_path.write_bytes(privacy.json_bytes(data))
    written = [json_path]
    if pdf:
        pdf_path = out.with_name(out.name + ".pdf")
        pdf_path.write_bytes(privacy.subject_pdf(data, STATE.lang))
        written.append(pdf_path)
    privacy.record_files(STATE.db(), authority=actor.authority_code, actor=actor.username,
                         kind="subject_export", paths=written, cases=[c["reference"] for c in data["cases"]])
    typer.echo(f"{len(data['cases'])} cases; written {', '.join(str(p) for p in written)}")


disclosure_app = typer.Typer(
    help="Smallest group published by the authority's statistics (disclosure control).", no_args_is_help=True
)
privacy_app.add_typer(disclosure_app, name="disclosure")


@disclosure_app.command("set")
def disclosure_set(
    min_group: int = typer.Argument(..., help="smallest group published (2-1000)"), user: str | None = USER
) -> None:
    """Set the acting user's authority's smallest published group (supervisor; every change is kept)."""
    from engine import directory, stats

    actor = directory.actor_for(STATE.db(), current_user(user))
    row = stats.set_min_group(STATE.db(), actor, min_group)
    typer.echo(f"{row.authority_code}: smallest published group {row.min_group} (was {row.previous})")


@disclosure_app.command("show")
def disclosure_show(user: str | None = USER) -> None:
    """The acting user's authority's smallest published group and every change of it."""
    from engine import directory, stats

    actor = directory.actor_for(STATE.db(), current_user(user))
    typer.echo(f"{actor.authority_code}: smallest published group {stats.min_group(STATE.db(), actor.authority_code)}")
    for row in stats.policy_history(STATE.db(), actor.authority_code):
        typer.echo(f"  {row.set_at:%Y-%m-%d %H:%M} {row.set_by}: {row.previous} -> {row.min_group}")


@retention_app.command("set")
def retention_set(
    years: int = typer.Argument(..., help="years after closure"), user: str | None = USER
) -> None:
    """Set the acting user's authority's retention period (supervisor)."""
    from engine import directory, privacy

    actor = directory.actor_for(STATE.db(), current_user(user))
    if actor.role.value != "supervisor":
        raise fail(f"only a supervisor sets the retention period; {actor.username} is {actor.role.value}")
    policy = privacy.set_policy(STATE.db(), actor.authority_code, years, by=actor.username)
    typer.echo(
        f"{policy.authority_code}: personal data of closed cases pseudonymised {policy.years} years "
        "after closure"
    )


@retention_app.command("show")
def retention_show() -> None:
    """Retention periods of every authority that has one."""
    from engine import privacy

    policies = privacy.list_policies(STATE.db())
    for p in policies:
        typer.echo(
            f"{p.authority_code:12} {p.years:3} years  (set by {p.updated_by} {p.updated_at:%Y-%m-%d})"
        )
    if not policies:
        typer.echo("no retention policy set: nothing is pseudonymised")


@retention_app.command("due")
def retention_due(authority: str = typer.Option(..., help="authority code, e.g. ES-MJ"),
                  as_json: bool = typer.Option(False, "--json", help="print the cases as JSON")) -> None:
    """Closed cases whose retention period has run out."""
    from engine import privacy

    due = privacy.due_cases(STATE.db(), authority)
    if as_json:
        typer.echo(
            json.dumps([{"reference": d.reference, "closed_at": d.closed_at.isoformat()} for d in due])
        )
        return
    for d in due:
        typer.echo(f"{d.reference:24} closed {d.closed_at:%Y-%m-%d}")
    typer.echo(f"{len(due)} cases due")


@retention_app.command("run")
def retention_run(
    authority: str | None = typer.Option(None, help="only this authority (default: every one)"),
    rerender: bool = typer.Option(True, help="render documents again from the pseudonymised data"),
    vacuum_full: bool = typer.Option(False, "--vacuum-full",
                                     help="PostgreSQL: VACUUM FULL (rewrites the tables; locks them meanwhile)"),
) -> None:
    """Pseudonymise every case whose retention period has run out (what the Prefect flow does)."""
    from engine import privacy

    summary = privacy.run_retention(STATE.db(), authority=authority, rerender=rerender, vacuum_full=vacuum_full)
    typer.echo(f"pseudonymised {len(summary.redacted)}, skipped {len(summary.skipped)}")
    if summary.scrubbed is not None and not summary.scrubbed.complete:
        typer.echo(translate(STATE.lang, SCRUB_INCOMPLETE).format(detail=summary.scrubbed.detail), err=True)
    for reference, path in summary.outside:
        typer.echo(translate(STATE.lang, FILE_OUTSIDE).format(case=reference, path=path), err=True)
