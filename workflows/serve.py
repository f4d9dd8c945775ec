"""Long-running scheduler: serve ``deadline_sweep``, ``outbox_dispatch``, ``retention`` and ``housekeeping`` on
intervals (Prefect ``serve``).

Needs a real Prefect API (``PREFECT_API_URL``): Prefect refuses to schedule on its temporary server.
``exhorto orchestrator serve`` starts or attaches to one, then runs ``python -m workflows.serve``.

Same rules as the deployments of ``prefect.yaml``: at most one run of each flow at a time (a run still going
when the next one is due makes Prefect cancel the newcomer, ``CANCEL_NEW``: the following one catches up), and no
secret among the parameters — the flows read the database URL, SMTP and webhook settings from this process's
environment (``EXHORTO_DATABASE_URL``, ``EXHORTO_SMTP_*``, ...), which the runs inherit.

At start it makes sure the Prefect server marks a run whose process died as ``Crashed`` (``engine.ops.crashes``:
heartbeats plus Prefect's documented automation), so a dead sweep does not hold its slot until the lease expires.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from workflows.deadlines import deadline_sweep
from workflows.housekeeping import housekeeping
from workflows.outbox import outbox_dispatch
from workflows.retention import retention

DAY = 24 * 3600


def one_at_a_time() -> Any:
    """Deployment concurrency: one run at a time; a run due while another runs is cancelled, not queued."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def deployments(*, sweep_every: int, dispatch_every: int, retention_every: int = DAY,
                housekeeping_every: int = DAY) -> list[Any]:
    schedule = [
        (deadline_sweep, "deadline-sweep", sweep_every, "Send reminders, overdue notices and escalations."),
        (outbox_dispatch, "outbox-dispatch", dispatch_every, "Deliver queued messages to counterpart authorities."),
        (retention, "retention", retention_every,
         "Pseudonymise closed cases whose retention period ran out (authorities with a policy)."),
        (housekeeping, "housekeeping", housekeeping_every, "Forget stored idempotency answers older than a week."),
    ]
    return [flow.to_deployment(name=name, interval=every, description=description,
                               concurrency_limit=one_at_a_time())
            for flow, name, every, description in schedule]


def main(argv: list[str] | None = None) -> None:
    from prefect import serve

    parser = argparse.ArgumentParser(prog="python -m workflows.serve")
    parser.add_argument("--sweep-every", type=int, default=900, help="seconds between deadline sweeps")
    parser.add_argument("--dispatch-every", type=int, default=60, help="seconds between outbox dispatches")
    parser.add_argument("--retention-every", type=int, default=DAY, help="seconds between retention runs")
    parser.add_argument("--housekeeping-every", type=int, default=DAY, help="seconds between housekeeping runs")
    args = parser.parse_args(argv)
    from engine.ops import crashes

    # The runs are child processes of this one: they inherit the heartbeat period, and the automation expects it.
    os.environ.update(crashes.with_heartbeat(dict(os.environ)))
    heartbeat = int(os.environ["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"])
    outcome = crashes.ensure(heartbeat)
    print(f"crash detection: automation {outcome} ({heartbeat} s heartbeats)", flush=True)
    serve(
        *deployments(
            sweep_every=args.sweep_every, dispatch_every=args.dispatch_every,
            retention_every=args.retention_every, housekeeping_every=args.housekeeping_every,
        )
    )


if __name__ == "__main__":
    main()
