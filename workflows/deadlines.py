"""Prefect flow ``deadline_sweep``: select due clocks by index, claim their ladder levels in batches, send.

The flow only orchestrates; each step is a task over engine's public API with retries on transient failures.
Every step is idempotent (unique (deadline, level) rows, compare-and-set on notifications), so a retried
task or a rerun after a crash neither duplicates nor skips a notice.

The database URL comes from the environment (``EXHORTO_DATABASE_URL``), never from a parameter (see
``workflows._common``). Timeouts bound a run that hangs (a database or mail server that stops answering): the
run ends ``TimedOut`` and frees its deployment's concurrency slot, so the next sweep is not blocked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from engine.deadlines.sweep import SweepSummary, claim_batch, due_batch
from engine.notify.dispatch import deliver_pending
from engine.notify.settings import NotifySettings
from engine.store.models import utcnow
from workflows._common import database, run_name, transient

RETRY_DELAYS = [1, 5, 20]
SWEEP_TIMEOUT = 3600  # seconds; a sweep normally takes seconds, the default schedule is every 900 s
SELECT_TIMEOUT, CLAIM_TIMEOUT, SEND_TIMEOUT = 300, 900, 1800


@task(
    name="select-due-deadlines",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=SELECT_TIMEOUT,
)
def select_due(now: datetime, batch_size: int) -> list[int]:
    return due_batch(database(), now, batch_size)


@task(
    name="claim-escalations",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=CLAIM_TIMEOUT,
)
def claim(ids: list[int], now: datetime) -> tuple[int, int]:
    return claim_batch(database(), ids, now, NotifySettings())


@task(
    name="send-notifications",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=SEND_TIMEOUT,
)
def send(now: datetime, limit: int) -> dict[str, Any]:
    summary = deliver_pending(database(), now=now, limit=limit)
    return {
        "sent": summary.sent,
        "retrying": summary.retrying,
        "failed": summary.failed,
        "errors": summary.errors[:20],
    }


@flow(name="deadline_sweep", log_prints=False, flow_run_name=run_name("deadline-sweep"),
      timeout_seconds=SWEEP_TIMEOUT)
def deadline_sweep(
    now: datetime | None = None,
    batch_size: int = 500,
    max_batches: int = 1000,
    send_limit: int = 5000,
) -> dict[str, Any]:
    """One sweep. ``now`` is injectable (tests, replays); by default the current time."""
    now = now or utcnow()
    summary = SweepSummary()
    for _ in range(max_batches):
        ids = select_due(now, batch_size)
        if not ids:
            break
        summary.selected += len(ids)
        summary.batches += 1
        summary.claim(claim(ids, now))
    delivered = send(now, send_limit)
    summary.sent, summary.retrying, summary.failed = (
        delivered["sent"],
        delivered["retrying"],
        delivered["failed"],
    )
    summary.errors = delivered["errors"]
    return summary.as_dict()


__all__ = ["claim", "deadline_sweep", "select_due", "send"]
