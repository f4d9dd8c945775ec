"""Prefect flow ``outbox_dispatch``: deliver the transactional outbox (engine.outbox.dispatch) with
retries."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from engine import outbox
from workflows._common import database, run_name, transient


@task(
    name="dispatch-outbox",
    retries=3,
    retry_delay_seconds=[1, 5, 20],
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=600,
)
def dispatch_round(limit: int) -> dict[str, int]:
    summary = outbox.dispatch(database(), limit=limit)
    return {"delivered": summary.delivered, "rejected": summary.rejected, "retrying": summary.retrying}


# The database URL comes from EXHORTO_DATABASE_URL, never from a parameter (workflows._common).
@flow(name="outbox_dispatch", flow_run_name=run_name("outbox-dispatch"), timeout_seconds=1800)
def outbox_dispatch(limit: int = 100, max_rounds: int = 50) -> dict[str, Any]:
    """Dispatch until a round delivers nothing (in hub mode a delivery can make the counterpart answer)."""
    total = {"delivered": 0, "rejected": 0, "retrying": 0, "rounds": 0}
    for _ in range(max_rounds):
        result = dispatch_round(limit)
        total["rounds"] += 1
        for key in ("delivered", "rejected", "retrying"):
            total[key] += result[key]
        if result["delivered"] + result["rejected"] == 0:
            break
    return total


__all__ = ["dispatch_round", "outbox_dispatch"]
