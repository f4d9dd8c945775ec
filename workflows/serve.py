"""Long-running scheduler: serve ``deadline_sweep`` and ``outbox_dispatch`` on intervals (Prefect ``serve``).

Needs a real Prefect API (``PREFECT_API_URL``): Prefect refuses to schedule on its temporary server.
``exhorto orchestrator serve`` starts or attaches to one, then runs ``python -m workflows.serve``.
"""

from __future__ import annotations

import argparse
from typing import Any

from workflows.deadlines import deadline_sweep
from workflows.outbox import outbox_dispatch


def deployments(*, sweep_every: int, dispatch_every: int, database_url: str | None) -> list[Any]:
    parameters = {"database_url": database_url} if database_url else {}
    return [
        deadline_sweep.to_deployment(
            name="deadline-sweep",
            interval=sweep_every,
            parameters=parameters,
            description="Send reminders, overdue notices and escalations.",
        ),
        outbox_dispatch.to_deployment(
            name="outbox-dispatch",
            interval=dispatch_every,
            parameters=parameters,
            description="Deliver queued messages to counterpart authorities.",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    from prefect import serve

    parser = argparse.ArgumentParser(prog="python -m workflows.serve")
    parser.add_argument("--sweep-every", type=int, default=900, help="seconds between deadline sweeps")
    parser.add_argument("--dispatch-every", type=int, default=60, help="seconds between outbox dispatches")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    serve(
        *deployments(
            sweep_every=args.sweep_every, dispatch_every=args.dispatch_every, database_url=args.database_url
        )
    )


if __name__ == "__main__":
    main()
