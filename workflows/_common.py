"""Plumbing shared by the flows: the node's database, run names that say what ran, and which failures are worth
a retry.

Secrets are never flow parameters: Prefect stores parameters with each deployment and run and shows them in its
UI, so a database URL (which may hold a password) would leak there. Every flow reads the database URL from the
environment of the process that runs it (``EXHORTO_DATABASE_URL``; the worker's, or ``workflows.serve``'s), like
SMTP and webhook settings and the key passphrase.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from engine.store.db import Database, database_url


@cache
def _database(url: str) -> Database:
    return Database(url)


def database() -> Database:
    """One Database per URL per process; the URL from ``EXHORTO_DATABASE_URL`` (read at each call: a process that
    changes it, such as a test, gets the database it names)."""
    return _database(database_url())


def _stamp(moment: Any) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return f"{moment:%Y-%m-%d %H:%M}Z" if isinstance(moment, datetime) else "now"


def run_name(label: str, *shown: str) -> Callable[[], str]:
    """``flow_run_name`` for a flow: its label, the moment it stands for — the ``now`` it was given ("as of …", a
    replay) or its scheduled start — and the parameters named in ``shown`` that were set, e.g.
    ``deadline-sweep 2026-12-04 11:15Z`` or ``retention as of 2027-01-01 00:00Z authority=ES-MJ``."""

    def name() -> str:
        from prefect.runtime import flow_run

        parameters = flow_run.parameters or {}
        given = parameters.get("now")
        when = f"as of {_stamp(given)}" if given else _stamp(flow_run.scheduled_start_time)
        extra = [f"{key}={parameters[key]}" for key in shown if parameters.get(key) is not None]
        return " ".join([label, when, *extra])

    return name


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
