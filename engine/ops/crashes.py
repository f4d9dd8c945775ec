"""Crashed flow runs are detected and marked by Prefect's own mechanism: heartbeats plus an automation.

A flow run started from a deployment sends a heartbeat event (``prefect.flow-run.heartbeat``) every
``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds (Prefect 3.9: default 180, minimum 30). If its process dies with the
machine, the worker or a ``kill -9``, nobody reports a final state and the run stays ``Running`` for ever; its
deployment concurrency slot (limit 1: the next sweep waits or is cancelled) is only freed when the lease expires
(``PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION``, 300 s). Prefect's documented answer for a
self-hosted server ("Detect zombie flows", docs.prefect.io/v3/advanced/detect-zombie-flows) is an automation: a
heartbeat not followed, within some time, by another heartbeat or a final state puts the run in ``Crashed``,
which also releases its concurrency slot. :func:`ensure` creates (or updates) that automation, once per Prefect
server; ``workflows.serve`` calls it at start, ``exhorto orchestrator detect-crashes`` for a worker setup.

``within`` must be longer than the heartbeat period of every worker (a live run would be crashed otherwise):
:data:`MISSED_HEARTBEATS` periods.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

NAME = "exhorto: crash flow runs whose heartbeats stopped"
MISSED_HEARTBEATS = 3
HEARTBEAT_SECONDS = "60"  # what exhorto's own launchers give the flow runs (Prefect's default, 180 s, is slow)


def with_heartbeat(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with a heartbeat period for flow runs, unless the operator chose one."""
    return {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": HEARTBEAT_SECONDS, **environ}
FINAL_EVENTS = ("prefect.flow-run.Completed", "prefect.flow-run.Failed", "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut")


def heartbeat_seconds() -> int:
    """The heartbeat period this process's Prefect settings give (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``)."""
    from prefect.settings import get_current_settings

    return int(get_current_settings().flows.heartbeat_frequency or 180)


def automation(heartbeat: int, missed: int = MISSED_HEARTBEATS) -> Any:
    """The automation as Prefect documents it, for runs whose heartbeat comes every ``heartbeat`` seconds."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    if missed < 2:
        raise ValueError("missed: at least 2 heartbeat periods, or a late heartbeat crashes a live run")
    return Automation(
        name=NAME,
        description=f"A flow run that sent no heartbeat for {heartbeat * missed} s ({missed} periods of "
                    f"{heartbeat} s) and reached no final state is marked Crashed; its concurrency slot is freed.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *FINAL_EVENTS},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=heartbeat * missed),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message=f"No heartbeat for {heartbeat * missed} s: the process running "
                                            "this flow run died (machine, worker or kill -9).")],
    )


def ensure(heartbeat: int | None = None, missed: int = MISSED_HEARTBEATS) -> str:
    """Create the automation on the Prefect server of ``PREFECT_API_URL``, or bring an existing one up to date
    (idempotent: one automation of this name). Returns ``created`` or ``updated``."""
    from prefect.automations import Automation

    wanted = automation(heartbeat or heartbeat_seconds(), missed)
    try:
        current = Automation.read(name=NAME)
    except ValueError:  # not found
        wanted.create()
        return "created"
    current.description, current.trigger, current.actions = wanted.description, wanted.trigger, wanted.actions
    current.enabled = True
    current.update()
    return "updated"


__all__ = ["HEARTBEAT_SECONDS", "MISSED_HEARTBEATS", "NAME", "automation", "ensure", "heartbeat_seconds",
           "with_heartbeat"]
