"""Nothing phones home: whichever entry point starts, every dependency's usage reporting is off.

See engine.ops.telemetry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from engine.ops.stack import StackConfig, plan
from engine.ops.telemetry import TELEMETRY_OFF


def test_importing_the_engine_switches_reporting_off_even_when_the_environment_asked_for_it() -> None:
    env = {**os.environ, "DO_NOT_TRACK": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "true"}
    names = list(TELEMETRY_OFF)
    code = f"import json, os, engine; print(json.dumps({{k: os.environ.get(k) for k in {names!r}}}))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == TELEMETRY_OFF


def test_prefect_sees_reporting_off_on_both_sides() -> None:
    code = ("import engine\n"
            "from prefect._internal.analytics.enabled import is_telemetry_enabled\n"
            "from prefect.settings import get_current_settings\n"
            "print(is_telemetry_enabled(), get_current_settings().server.analytics_enabled)")
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "GITHUB_ACTIONS"} and k not in TELEMETRY_OFF}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_every_service_of_the_stack_starts_with_reporting_off() -> None:
    for service in plan(StackConfig()):
        assert {k: service.env.get(k) for k in TELEMETRY_OFF} == TELEMETRY_OFF, service.name


def test_the_api_app_instruments_nothing(tmp_path) -> None:
    from engine.api import create_app
    from engine.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 'node.db'}")
    app = create_app(db)
    assert not any(app._telemetry[key] for key in ("tracing", "metrics", "logs", "operation_spans", "auto_configure"))
    db.dispose()
