"""Deadline clocks attached to lifecycle transitions (policy and orchestration: see workflows/)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from engine.lifecycle import State
from engine.store.models import Case


def on_transition(session: Session, case: Case, action: str, from_state: State | None, to_state: State,
                  now: datetime) -> None:
    """Start, pause, resume or stop the case's clocks for this move (inside the caller's transaction).

    ``action`` is a lifecycle action, or ``receive`` when a request arrives and the requested side's record opens."""
    return None
