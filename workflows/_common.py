"""Plumbing shared by the flows: one Database per URL per process, and which failures are worth a retry."""

from __future__ import annotations

from functools import cache
from typing import Any

from engine.store.db import Database


@cache
def database(url: str | None) -> Database:
    return Database(url)


def transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry on I/O trouble (database busy or gone, network); never on our own refusals, which would recur."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from engine.errors import ExhortoError

    try:
        state.result()
    except (OperationalError, DBAPIError, OSError, TimeoutError):
        return True
    except ExhortoError:
        return False
    except Exception:  # noqa: BLE001 - unknown failure: one more try is cheap, the rerun is idempotent
        return True
    return False
