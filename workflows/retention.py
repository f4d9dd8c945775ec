"""Prefect flow ``retention``: pseudonymise the personal data of closed cases whose retention period ran out.

The flow only orchestrates: list the authorities with a policy, find each one's due cases, pseudonymise
them in batches. Each case is done in its own transaction with a unique ``case_redaction`` row, so a
retried task or a rerun after a crash skips the cases already done and never redacts one twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from engine import privacy
from engine.store.models import utcnow
from workflows._common import database, transient

RETRY_DELAYS = [1, 5, 20]


@task(
    name="retention-authorities",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
)
def authorities(database_url: str | None, only: str | None) -> list[str]:
    if only:
        return [only]
    return [p.authority_code for p in privacy.list_policies(database(database_url))]


@task(
    name="retention-due-cases",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
)
def due(database_url: str | None, authority: str, now: datetime, limit: int | None) -> list[privacy.DueCase]:
    return privacy.due_cases(database(database_url), authority, now=now, limit=limit)


@task(
    name="pseudonymise-cases",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
)
def pseudonymise(
    database_url: str | None, cases: list[privacy.DueCase], now: datetime, rerender: bool
) -> dict[str, Any]:
    summary = privacy.redact_due(database(database_url), cases, rerender=rerender, now=now)
    return {**summary.as_dict(), "references": summary.redacted}


@task(
    name="scrub-database",
    retries=3,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient,
    cache_policy=NO_CACHE,
)
def scrub(database_url: str | None, full: bool) -> dict[str, Any]:
    """Checkpoint (SQLite) or vacuum (PostgreSQL): the erased values leave the database files too."""
    return privacy.scrub(database(database_url), full=full).as_dict()


@flow(name="retention", log_prints=False)
def retention(
    database_url: str | None = None,
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
    codes = authorities(database_url, authority)
    for code in codes:
        cases = due(database_url, code, now, limit)
        for start in range(0, len(cases), batch_size):
            done = pseudonymise(database_url, cases[start : start + batch_size], now, rerender)
            total["redacted"] += done["redacted"]
            total["skipped"] += done["skipped"]
            total["references"] += done["references"]
            total["files_outside"] += done["files_outside"]
    if codes:  # also when nothing new was redacted: an incomplete scrub of an earlier run is finished now
        total["scrub"] = scrub(database_url, vacuum_full)
    for item in total["files_outside"]:  # out of the engine's reach: the operator deletes them
        get_run_logger().warning("case %s: file written outside the database remains: %s", item["case"],
                                 item["path"])
    return total


if __name__ == "__main__":
    retention()
