"""Prefect flow ``housekeeping``: forget stored idempotency answers once no client can still be retrying.

An ``Idempotency-Key`` row keeps the first answer to a write so that a retry gets it back; that answer holds the
case as it was (personal data included), so it must not outlive its purpose. Clients retry within minutes; the
default keeps a week. Deleting by age is idempotent: a retried task or a rerun deletes nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from engine import idempotency
from engine.store.models import utcnow
from workflows._common import database, run_name, transient

KEEP_IDEMPOTENCY_DAYS = 7


@task(name="purge-idempotency-keys", retries=3, retry_delay_seconds=[1, 5, 20], retry_condition_fn=transient,
      cache_policy=NO_CACHE, timeout_seconds=900)
def purge_idempotency_keys(older_than: datetime) -> int:
    return idempotency.purge(database(), older_than=older_than)


# The database URL comes from EXHORTO_DATABASE_URL, never from a parameter (workflows._common).
@flow(name="housekeeping", log_prints=False, flow_run_name=run_name("housekeeping"), timeout_seconds=1800)
def housekeeping(now: datetime | None = None, keep_idempotency_days: int = KEEP_IDEMPOTENCY_DAYS) -> dict[str, int]:
    """Delete what has served its purpose; returns how many rows of each kind went."""
    if keep_idempotency_days < 1:
        raise ValueError("keep_idempotency_days: keep the answers at least one day, clients may still retry")
    now = now or utcnow()
    return {"idempotency_keys": purge_idempotency_keys(now - timedelta(days=keep_idempotency_days))}


if __name__ == "__main__":
    housekeeping()
