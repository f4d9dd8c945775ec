"""Nothing phones home: every dependency's usage reporting is switched off, in every mode.

Prefect 3.9 has two: the server's analytics (``PREFECT_SERVER_ANALYTICS_ENABLED``, also for the temporary server a
flow run starts by itself) and the SDK's client-side events, which honour the ``DO_NOT_TRACK`` convention.
schemathesis (tests) reports usage unless ``SCHEMATHESIS_TELEMETRY`` is false. FastAPI ≥ 0.150 instruments every
request with OpenTelemetry and adds exporters from ``OTEL_*`` variables when asked: the app is built with
:data:`FASTAPI_TELEMETRY_OFF`, and the OpenTelemetry SDK is disabled. The settings go into the process
environment, so every subprocess this node starts (Prefect server, flow runs, API workers) inherits them. They are
forced, not defaulted: an inherited environment cannot switch reporting back on by accident.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

TELEMETRY_OFF: dict[str, str] = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "SCHEMATHESIS_TELEMETRY": "false",
    "FASTAPI_OTEL_AUTO_CONFIGURE": "false",
    "OTEL_SDK_DISABLED": "true",
}

# FastAPI(telemetry=...): no spans, metrics or exception logs leave the request path, whatever providers exist.
FASTAPI_TELEMETRY_OFF = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False,
                         "auto_configure": False}


def switch_off(environ: MutableMapping[str, str] = os.environ) -> None:
    environ.update(TELEMETRY_OFF)
