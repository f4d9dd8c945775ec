"""One sweep without an orchestrator: claim due ladder levels in batches, then send the notification log.

The Prefect flow ``deadline_sweep`` (workflows/deadlines.py) runs the same steps as retried tasks; this
function is the direct path for tests, benchmarks and ``exhorto deadlines sweep --direct``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from engine.deadlines.escalation import escalate, select_due
from engine.notify.channels import Channel
from engine.notify.dispatch import DeliverySummary, deliver_pending
from engine.notify.settings import NotifySettings
from engine.store.db import Database
from engine.store.models import utcnow


@dataclass
class SweepSummary:
    selected: int = 0
    batches: int = 0
    levels: int = 0
    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def claim(self, claimed: tuple[int, int]) -> None:
        self.levels += claimed[0]
        self.queued += claimed[1]

    def delivered(self, delivery: DeliverySummary) -> None:
        self.sent += delivery.sent
        self.retrying += delivery.retrying
        self.failed += delivery.failed
        self.errors += delivery.errors

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def claim_batch(db: Database, ids: list[int], now: datetime, settings: NotifySettings) -> tuple[int, int]:
    levels = queued = 0
    for deadline_id in ids:
        claimed, notices = escalate(db, deadline_id, now, settings)
        levels, queued = levels + claimed, queued + notices
    return levels, queued


def due_batch(db: Database, now: datetime, batch_size: int) -> list[int]:
    with db.reader() as session:
        return select_due(session, now, batch_size)


def sweep_once(
    db: Database,
    *,
    now: datetime | None = None,
    batch_size: int = 500,
    max_batches: int = 1000,
    settings: NotifySettings | None = None,
    channels: Mapping[str, Channel] | None = None,
    send: bool = True,
) -> SweepSummary:
    now = now or utcnow()
    settings = settings or NotifySettings()
    summary = SweepSummary()
    for _ in range(max_batches):
        ids = due_batch(db, now, batch_size)
        if not ids:
            break
        summary.selected += len(ids)
        summary.batches += 1
        summary.claim(claim_batch(db, ids, now, settings))
    if send:
        summary.delivered(deliver_pending(db, settings=settings, channels=channels, now=now, limit=100_000))
    return summary


__all__ = ["SweepSummary", "claim_batch", "due_batch", "sweep_once"]
