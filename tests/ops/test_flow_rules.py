"""Rules every Prefect flow of exhorto keeps: no secret can be a parameter (Prefect stores parameters with each
deployment and run and shows them in its UI), runs are named after what ran, flows and tasks have timeouts."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import workflows
from tests.federation.nodes import free_port

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


def _detect_crashes(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", "orchestrator",
                           "detect-crashes"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=clean | {"PREFECT_HOME": str(tmp_path / "prefect")} | env)


def test_detect_crashes_without_a_server_says_so_in_one_line(tmp_path: Path) -> None:
    """Without PREFECT_API_URL Prefect would put the automation on a temporary server, to no effect: refused."""
    unset = _detect_crashes(tmp_path)
    assert unset.returncode == 2 and unset.stderr.strip().splitlines() == [
        "error: PREFECT_API_URL is not set: point it at the Prefect server the workers use"]
    port = free_port()  # nothing listens there
    silent = _detect_crashes(tmp_path, PREFECT_API_URL=f"http://127.0.0.1:{port}/api")
    assert silent.returncode == 1 and "Traceback" not in silent.stderr
    assert silent.stderr.strip().splitlines()[-1].startswith(
        f"error: the Prefect server at http://127.0.0.1:{port}/api did not answer"), silent.stderr
