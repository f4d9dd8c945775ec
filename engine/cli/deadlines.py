"""`exhorto deadlines …`, `exhorto orchestrator serve` and the tracking commands `case clocks|due`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from engine.cli._common import STATE, current_user, fail
from engine.i18n import translate

deadlines_app = typer.Typer(
    help="Deadlines: sweep, policy, extensions, notification log.", no_args_is_help=True
)
orchestrator_app = typer.Typer(help="Scheduled orchestration with Prefect.", no_args_is_help=True)

CASE = typer.Argument(..., help="case reference (e.g. CO-FGN/2026/000001) or id")
USER = typer.Option(None, "--user", "-u", help="acting user (or EXHORTO_USER)")


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--now: not an ISO 8601 date-time: {text!r}", 2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}Z" if moment else "-"


@deadlines_app.command("sweep")
def sweep_command(
    now: str | None = typer.Option(None, help="pretend it is this time (ISO 8601)"),
    batch_size: int = typer.Option(500, min=1, help="clocks handled per transaction"),
    direct: bool = typer.Option(False, "--direct", help="run in this process without Prefect"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Send every reminder, overdue notice and escalation that is due, once."""
    from engine.store.db import database_url

    moment = _when(now)
    STATE.db()  # schema up to date before the flow's tasks open their own connections
    if direct:
        from engine.deadlines.sweep import sweep_once

        summary = sweep_once(STATE.db(), now=moment, batch_size=batch_size).as_dict()
    else:
        from workflows.deadlines import deadline_sweep

        # The flow reads the database URL from the environment (never a parameter: Prefect would store it).
        os.environ["EXHORTO_DATABASE_URL"] = database_url(STATE.db_url)
        summary = deadline_sweep(now=moment, batch_size=batch_size)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(
        f"clocks due {summary['selected']} in {summary['batches']} batches; levels claimed "
        f"{summary['levels']}, notices queued {summary['queued']}; sent {summary['sent']}, "
        f"retrying {summary['retrying']}, failed {summary['failed']}"
    )
    for error in summary["errors"]:
        typer.echo(f"  {error}", err=True)


@deadlines_app.command("policy")
def policy_command(
    basis: str | None = typer.Option(None, help="legal basis (EIO, MEDELLIN, …)"),
    check: Path | None = typer.Option(None, help="validate this override file and stop"),
) -> None:
    """Show the effective deadline policy (built-in + EXHORTO_DEADLINE_POLICY), or check an override file."""
    from engine.deadlines import policy

    if check is not None:
        checked = policy.policy_from(check)
        typer.echo(
            f"{check}: valid; {len(checked.default)} default clocks, bases: {', '.join(checked.bases())}"
        )
        return
    effective = policy.load_policy()
    typer.echo(f"policy: {effective.source}")
    typer.echo(f"bases: {', '.join(effective.bases())} (others use the defaults)")
    for rule in effective.clocks_for(basis):
        urgent = (
            f", urgent {rule.urgent_period} {(rule.urgent_unit or rule.unit).value}"
            if rule.urgent_period
            else ""
        )
        typer.echo(
            f"  {rule.kind:22} {rule.side:10} {rule.period} {rule.unit.value}{urgent}; "
            f"start {','.join(sorted(rule.start))}; stop {','.join(sorted(rule.stop)) or '-'}; "
            f"pause {','.join(sorted(rule.pause)) or '-'}; ladder "
            + " → ".join(
                f"{lv.name}@{lv.at:g}" + (f"+{lv.grace}{lv.grace_unit.value[0]}" if lv.grace else "")
                for lv in rule.ladder
            )
        )


@deadlines_app.command("extend")
def extend_command(
    case: str = CASE,
    kind: str = typer.Argument(..., help="the clock, e.g. acknowledge, decide, execute (see exhorto case clocks)"),
    by: int = typer.Option(..., "--by", help="amount"),
    unit: str = typer.Option("calendar_days", help="calendar_days | business_days | hours"),
    reasons: str = typer.Option(..., help="why (kept in the audit log)"),
    user: str | None = USER,
) -> None:
    """Move an open clock's due time by an agreed extension (judge or supervisor)."""
    from engine import directory
    from engine.deadlines import clocks

    actor = directory.actor_for(STATE.db(), current_user(user))
    clock = clocks.extend(
        STATE.db(), case=case, kind=kind, amount=by, unit=unit, reasons=reasons, actor=actor
    )
    typer.echo(f"{case}: {kind} now due {_stamp(clock.due_at)}")


@deadlines_app.command("notifications")
def notifications_command(
    status: str | None = typer.Option(None, help="pending | sending | sent | failed"),
    retry: bool = typer.Option(False, "--retry", help="re-queue failed notifications"),
    limit: int = typer.Option(50, min=1, help="show at most this many, newest first"),
) -> None:
    """The notification log, newest first."""
    from sqlmodel import col, select

    from engine.notify.dispatch import requeue_failed
    from engine.store.deadline_models import Notification

    if retry:
        typer.echo(f"{requeue_failed(STATE.db())} failed notifications re-queued")
        return
    with STATE.db().reader() as session:
        query = select(Notification).order_by(col(Notification.id).desc()).limit(limit)
        if status:
            query = query.where(Notification.status == status)
        for n in session.exec(query):
            typer.echo(
                f"{n.id:6} {n.status:8} {n.channel:7} {n.attempts:2}× {n.recipient[:40]:40} {n.subject[:60]}"
                + (f"  [{n.last_error[:80]}]" if n.last_error else "")
            )


def due_command(
    overdue: bool = typer.Option(False, "--overdue", help="only clocks past due"),
    due_within: str | None = typer.Option(None, "--due-within", help="e.g. 7d, 48h, 2w"),
    now: str | None = typer.Option(None, help="pretend it is this time (ISO 8601)"),
    user: str | None = USER,
) -> None:
    """Cases of your authority with a clock overdue or due soon, soonest first."""
    from engine import directory
    from engine.deadlines import tracking
    from engine.deadlines.messages import DEADLINE_LABELS, label

    actor = directory.actor_for(STATE.db(), current_user(user))
    moment = _when(now) or datetime.now(UTC)
    window = tracking.parse_window(due_within) if due_within else None
    rows = tracking.tracked(
        STATE.db(), authority=actor.authority_code, overdue=overdue, due_within=window, now=moment
    )
    for row in rows:
        flag = translate(STATE.lang, "Overdue") if row.overdue(moment) else ""
        typer.echo(
            f"{row.reference:22} {label(DEADLINE_LABELS, row.kind, STATE.lang)[:42]:42} "
            f"{_stamp(row.due_at):18} {row.status:8} {row.responsible:8} {flag}"
        )
    if not rows:
        typer.echo("-")


def clocks_command(case: str = CASE, user: str | None = USER) -> None:
    """The case's clocks and their timeline: started, paused, resumed, extended, notices sent, met."""
    from engine import directory
    from engine.deadlines import tracking
    from engine.deadlines.messages import DEADLINE_LABELS, EVENT_LABELS, label

    actor = directory.actor_for(STATE.db(), current_user(user))
    record, entries = tracking.timeline(STATE.db(), case, actor=actor)
    for clock in tracking.clocks_of(STATE.db(), record.id or 0):
        typer.echo(
            f"{label(DEADLINE_LABELS, clock.kind, STATE.lang)}: {clock.status}, due {_stamp(clock.due_at)} "
            f"({clock.period}, {clock.responsible_code}), notices {clock.level_sent}"
        )
    for e in entries:
        extra = ", ".join(f"{k}={v}" for k, v in e.detail.items() if v not in (None, "", []))
        typer.echo(
            f"  {_stamp(e.at)} {e.kind:22} {label(EVENT_LABELS, e.event, STATE.lang):14} "
            f"due {_stamp(e.due_at)} {e.actor} {extra}"
        )


# ---- orchestrator ---------------------------------------------------------------------------------------
def _healthy(api_url: str) -> bool:
    import httpx

    try:
        return httpx.get(api_url.rstrip("/") + "/health", timeout=2).is_success
    except httpx.HTTPError:
        return False


@orchestrator_app.command("serve")
def serve_command(
    sweep_every: int = typer.Option(900, min=10, help="seconds between deadline sweeps"),
    dispatch_every: int = typer.Option(60, min=5, help="seconds between outbox dispatches"),
    api_url: str | None = typer.Option(None, envvar="PREFECT_API_URL", help="Prefect API to use"),
    port: int = typer.Option(4200, help="port for the Prefect server started here"),
    startup_timeout: int = typer.Option(120, help="seconds to wait for that server"),
) -> None:
    """Run deadline sweeps and outbox dispatches on a schedule until stopped (Ctrl-C).

    Prefect's temporary in-process server cannot run schedules, so this attaches to the Prefect server at
    PREFECT_API_URL or, when none answers, starts `prefect server start` on 127.0.0.1 and stops it on exit."""
    from engine.store.db import database_url

    STATE.db()
    children: list[subprocess.Popen[bytes]] = []
    try:
        if api_url and _healthy(api_url):
            typer.echo(f"using the Prefect server at {api_url}")
        else:
            api_url = f"http://127.0.0.1:{port}/api"
            typer.echo(
                f"no Prefect server answering; starting one at {api_url} "
                "(Prefect's temporary server cannot run schedules)"
            )
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                     "--port", str(port)]
                )
            )
            deadline = time.monotonic() + startup_timeout
            while not _healthy(api_url):
                if children[0].poll() is not None or time.monotonic() > deadline:
                    raise fail(f"the Prefect server did not start within {startup_timeout} s")
                time.sleep(1)
            typer.echo(f"Prefect server ready (pid {children[0].pid}); UI at {api_url.removesuffix('/api')}")
        # The database URL goes to the flows in the environment: never on a command line (ps) nor in Prefect's
        # deployment parameters, since it may hold a password.
        from engine.ops.crashes import with_heartbeat

        env = with_heartbeat({**os.environ, "PREFECT_API_URL": api_url,
                              "EXHORTO_DATABASE_URL": database_url(STATE.db_url)})
        command = [sys.executable, "-m", "workflows.serve", "--sweep-every", str(sweep_every),
                   "--dispatch-every", str(dispatch_every)]
        typer.echo(
            f"serving deadline_sweep every {sweep_every} s and outbox_dispatch every {dispatch_every} s"
        )
        children.append(subprocess.Popen(command, env=env))
        children[-1].wait()
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        for child in reversed(children):  # only the processes started here
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()


@orchestrator_app.command("detect-crashes")
def detect_crashes_command(
    heartbeat: int | None = typer.Option(
        None, min=30, help="seconds between the workers' flow-run heartbeats (PREFECT_FLOWS_HEARTBEAT_FREQUENCY; "
                           "default: this process's setting)"),
    missed: int = typer.Option(3, min=2, help="heartbeats missed before a run is marked Crashed"),
) -> None:
    """Make the Prefect server at PREFECT_API_URL mark a flow run Crashed when its heartbeats stop (its process
    died), which frees its concurrency slot for the next run. Idempotent; `orchestrator serve` does it itself."""
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError
    from prefect.settings import get_current_settings

    from engine.ops import crashes

    api_url = get_current_settings().api.url
    if not api_url:  # Prefect would start a temporary server and put the automation there, to no effect
        raise fail("PREFECT_API_URL is not set: point it at the Prefect server the workers use", 2)
    seconds = heartbeat or crashes.heartbeat_seconds()
    try:
        outcome = crashes.ensure(seconds, missed)
    except (httpx.HTTPError, PrefectHTTPStatusError) as error:
        raise fail(f"the Prefect server at {api_url} did not answer: {error}") from None
    typer.echo(f"automation {crashes.NAME!r} {outcome}: a run without a heartbeat for {seconds * missed} s "
               "is marked Crashed")


def register(case_app: typer.Typer) -> None:
    """Tracking commands that read best under `exhorto case`."""
    case_app.command("clocks")(clocks_command)
    case_app.command("due")(due_command)
