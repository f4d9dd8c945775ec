"""Prefect flow ``retention``: pseudonymise the personal data of closed cases whose retention period ran out.

The flow only orchestrates: list the authorities with a policy, find each one's due cases, pseudonymise
them in batches. Each case is done in its own transaction with a unique ``case_redaction`` row, so a
retried task or a rerun after a crash skips the cases already done and never redacts one twice.
The database URL comes from EXHORTO_DATABASE_URL, never from a parameter (workflows._common).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from engine import privacy
from engine.store.models import utcnow
from workflows._common import database, run_name, transient

RETRY_DELAYS = [1, 5, 20]


@task(
    name="retention-authorities",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=300,
)
def authorities(only: str | None) -> list[str]:
    if only:
        return [only]
    return [p.authority_code for p in privacy.list_policies(database())]


@task(
    name="retention-due-cases",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=900,
)
def due(authority: str, now: datetime, limit: int | None) -> list[privacy.DueCase]:
    return privacy.due_cases(database(), authority, now=now, limit=limit)


@task(
    name="pseudonymise-cases",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=3600,  # a batch re-renders up to batch_size PDFs
)
def pseudonymise(cases: list[privacy.DueCase], now: datetime, rerender: bool) -> dict[str, Any]:
    summary = privacy.redact_due(database(), cases, rerender=rerender, now=now)
    return {**summary.as_dict(), "references": summary.redacted}


@task(
    name="scrub-database",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
    timeout_seconds=6 * 3600,  # VACUUM FULL rewrites every touched table
)
def scrub(full: bool) -> dict[str, Any]:
    """Checkpoint (SQLite) or vacuum (PostgreSQL): the erased values leave the database files too."""
    return privacy.scrub(database(), full=full).as_dict()


@flow(name="retention", log_prints=False, flow_run_name=run_name("retention", "authority"),
      timeout_seconds=6 * 3600)
def retention(
    authority: str | None = None,
    now: datetime | None = None,
    batch_size: int = 200,
    limit: int | None = None,
    rerender: bool = True,
    vacuum_full: bool = False,
) -> dict[str, Any]:
    """Apply the retention policies now (or at ``now``); returns what was pseudonymised."""
    now = now or utcnow()
    total: dict[str, Any] = {"redacted": 0, "skipped": 0, "references": [], "scrub": None,
                             "files_outside": []}
    codes = authorities(authority)
    for code in codes:
        cases = due(code, now, limit)
        for start in range(0, len(cases), batch_size):
            done = pseudonymise(cases[start : start + batch_size], now, rerender)
            total["redacted"] += done["redacted"]
            total["skipped"] += done["skipped"]
            total["references"] += done["references"]
            total["files_outside"] += done["files_outside"]
    if codes:  # also when nothing new was redacted: an incomplete scrub of an earlier run is finished now
        total["scrub"] = scrub(vacuum_full)
    for item in total["files_outside"]:  # out of the engine's reach: the operator deletes them
        get_run_logger().warning("case %s: file written outside the database remains: %s", item["case"],
                                 item["path"])
    return total


if __name__ == "__main__":
    retention()
