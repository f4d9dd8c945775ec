"""`exhorto case …`, `exhorto dispatch`, `exhorto audit verify`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from engine.cli._common import STATE, current_user, fail, read_json
from engine.i18n import translate
from engine.lifecycle import ACTION_LABELS, STATE_LABELS, State, available

case_app = typer.Typer(help="Create, list, show and move cases.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log.", no_args_is_help=True)

CASE = typer.Argument(..., help="case reference (e.g. CO-FGN/2026/000001) or id")
USER = typer.Option(None, "--user", "-u", help="acting user (or EXHORTO_USER)")


def state_label(state: str) -> str:
    return translate(STATE.lang, STATE_LABELS[State(state)])


@case_app.command("create")
def case_create(to: str = typer.Option(..., "--to", help="requested authority code"),
                payload: Path | None = typer.Option(None, help="request form (JSON file, - for stdin)"),
                user: str | None = USER) -> None:
    """Open a draft request to another authority."""
    from engine import cases, directory

    actor = directory.actor_for(STATE.db(), current_user(user))
    case = cases.create_case(STATE.db(), actor=actor, counterpart=to, payload=read_json(payload))
    typer.echo(f"{case.reference} created ({state_label(case.state)}), exchange {case.exchange_id}")


@case_app.command("edit")
def case_edit(case: str = CASE,
              payload: Path = typer.Option(..., help="the complete new request form (JSON file, - for stdin)"),
              version: int | None = typer.Option(None, help="expected version (optimistic lock)"),
              user: str | None = USER) -> None:
    """Replace the request form of a draft."""
    from engine import cases, directory

    actor = directory.actor_for(STATE.db(), current_user(user))
    record = cases.update_draft(STATE.db(), case=case, actor=actor, payload=read_json(payload),
                                expected_version=version)
    typer.echo(f"{record.reference} saved (version {record.version})")


@case_app.command("list")
def case_list(state: str | None = typer.Option(None, help="only cases in this state, e.g. delivered"),
              side: str | None = typer.Option(None, help="requesting | requested"),
              overdue: bool = typer.Option(False, "--overdue", help="only cases with a clock past due"),
              due_within: str | None = typer.Option(None, "--due-within", help="clocks due within e.g. 7d, 48h"),
              user: str | None = USER) -> None:
    """Cases of the acting user's authority (with --overdue / --due-within: their clocks, soonest first)."""
    if overdue or due_within:
        from engine.cli.deadlines import due_command

        due_command(overdue=overdue, due_within=due_within, now=None, user=user)
        return
    # Core only, no ORM: this command's start-up is mostly imports (bench/startup.py).
    from engine.store.core_reads import acting_authority, case_rows

    authority = acting_authority(STATE.db(), current_user(user))
    for c in case_rows(STATE.db(), authority=authority, state=state, side=side):
        typer.echo(f"{c.reference:22} {c.side:10} {c.counterpart_code:10} {state_label(c.state):28} "
                   f"v{c.version} {c.urgency}")


@case_app.command("show")
def case_show(case: str = CASE, user: str | None = USER,
              as_json: bool = typer.Option(False, "--json", help="the whole record as JSON")) -> None:
    """A case: counterpart, state, version, legal basis and the actions the acting user may take next."""
    from engine import directory
    from engine.privacy import read_case

    actor = directory.actor_for(STATE.db(), current_user(user))
    c = read_case(STATE.db(), case, actor=actor, channel="cli", purpose="case.show")  # logged before it is shown
    if as_json:
        typer.echo(json.dumps(c.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{c.reference}  ({c.side} side, exchange {c.exchange_id})")
    typer.echo(f"  counterpart: {c.counterpart_code} {c.counterpart_reference or ''}")
    typer.echo(f"  state: {state_label(c.state)}  version: {c.version}  urgency: {c.urgency}  "
               f"legal basis: {c.legal_basis or '-'}")
    next_actions = sorted({t.action for t in available(c.state, c.side) if actor.role in t.roles})
    typer.echo("  next: " + (", ".join(f"{a} ({translate(STATE.lang, ACTION_LABELS[a])})"
                                        for a in next_actions) or "-"))


@case_app.command("act")
def case_act(case: str = CASE,
             action: str = typer.Argument(..., help="lifecycle action, e.g. submit, approve, refuse "
                                                     "(see exhorto lifecycle)"),
             payload: Path | None = typer.Option(None, help="the action's form (JSON file)"),
             reasons: str | None = typer.Option(None, help="reasons (send back, withdraw, …)"),
             version: int | None = typer.Option(None, help="expected version (optimistic lock)"),
             user: str | None = USER) -> None:
    """Apply a lifecycle action to a case."""
    from engine import directory
    from engine.actions import apply_action

    actor = directory.actor_for(STATE.db(), current_user(user))
    body = read_json(payload)
    if reasons is not None:
        body["reasons"] = reasons
    outcome = apply_action(STATE.db(), case=case, action=action, actor=actor, payload=body,
                           expected_version=version)
    sent = f"; message {outcome.message.kind} queued" if outcome.message else ""
    typer.echo(f"{outcome.case.reference}: {action} → {state_label(outcome.case.state)} "
               f"(version {outcome.case.version}){sent}")


@case_app.command("history")
def case_history(case: str = CASE, user: str | None = USER) -> None:
    """The case's audit trail."""
    from engine import cases, directory
    from engine.privacy import read_case

    actor = directory.actor_for(STATE.db(), current_user(user))
    record = read_case(STATE.db(), case, actor=actor, channel="cli", purpose="case.history")  # logged first
    for e in cases.history(STATE.db(), record.id or 0, actor=actor):
        move = f"{e.from_state or '∅'} → {e.to_state}" if e.from_state != e.to_state else ""
        typer.echo(f"{e.seq:3} {e.at:%Y-%m-%d %H:%M:%S}Z {e.actor:22} {e.action:28} {move}")


def dispatch_command() -> None:
    """Deliver queued messages between the authorities of this node (hub mode)."""
    from engine import outbox

    summary = outbox.dispatch_all(STATE.db())
    typer.echo(f"delivered {summary.delivered}, rejected {summary.rejected}, retrying {summary.retrying}")


@audit_app.command("verify")
def audit_verify(authority: str | None = typer.Option(None, help="only this authority's cases")) -> None:
    """Check every case's hash chain; report the first broken link of each."""
    from engine import audit

    with STATE.db().reader() as session:
        checked, breaks = audit.verify_all(session, authority)
    for problem in breaks:
        typer.echo(f"BROKEN {problem}")
    if breaks:
        raise fail(f"{len(breaks)} of {checked} audit chains are broken")
    typer.echo(f"{checked} audit chains verified")
