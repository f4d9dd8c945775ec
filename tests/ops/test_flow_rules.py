"""Rules every Prefect flow of exhorto keeps: no secret can be a parameter (Prefect stores parameters with each
deployment and run and shows them in its UI), runs are named after what ran, flows and tasks have timeouts."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import UTC, datetime

import pytest

import workflows

SECRET_WORDS = ("url", "password", "secret", "passphrase", "token", "key", "dsn")


def flows_and_tasks() -> tuple[list[object], list[object]]:
    from prefect import Flow
    from prefect.tasks import Task

    flows: list[object] = []
    tasks: list[object] = []
    for info in pkgutil.iter_modules(workflows.__path__):
        module = importlib.import_module(f"workflows.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Flow) and value not in flows:
                flows.append(value)
            elif isinstance(value, Task) and value not in tasks:
                tasks.append(value)
    return flows, tasks


def test_no_flow_or_task_takes_a_secret_as_a_parameter() -> None:
    flows, tasks = flows_and_tasks()
    assert {f.name for f in flows} >= {"deadline_sweep", "outbox_dispatch", "retention", "housekeeping"}  # type: ignore[attr-defined]
    for item in [*flows, *tasks]:
        for parameter in inspect.signature(item.fn).parameters:  # type: ignore[attr-defined]
            assert not any(word in parameter for word in SECRET_WORDS), (item.name, parameter)  # type: ignore[attr-defined]


def test_flows_and_tasks_have_timeouts_and_flows_name_their_runs() -> None:
    flows, tasks = flows_and_tasks()
    for item in [*flows, *tasks]:
        assert item.timeout_seconds, f"{item.name} has no timeout"  # type: ignore[attr-defined]
    for item in flows:
        assert callable(item.flow_run_name), f"{item.name} has no run name"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("parameters", "scheduled", "expected"), [
    ({}, datetime(2026, 12, 4, 11, 15, 7, tzinfo=UTC), "deadline-sweep 2026-12-04 11:15Z"),
    ({"now": datetime(2027, 1, 1, tzinfo=UTC)}, datetime(2026, 12, 4, tzinfo=UTC),
     "deadline-sweep as of 2027-01-01 00:00Z"),
    ({"now": "2027-01-01T00:00:00+00:00", "authority": "ES-MJ"}, datetime(2026, 12, 4, tzinfo=UTC),
     "deadline-sweep as of 2027-01-01 00:00Z authority=ES-MJ"),
])
def test_run_names_say_what_ran_and_for_which_moment(monkeypatch: pytest.MonkeyPatch, parameters: dict[str, object],
                                                     scheduled: datetime, expected: str) -> None:
    from prefect.runtime import flow_run

    from workflows._common import run_name

    monkeypatch.setitem(flow_run.FIELDS, "parameters", lambda: parameters)  # what Prefect reads in a run
    monkeypatch.setitem(flow_run.FIELDS, "scheduled_start_time", lambda: scheduled)
    assert run_name("deadline-sweep", "authority")() == expected
