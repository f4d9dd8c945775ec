"""Joint observatories (Santa Marta §5 and §6): authorities send aggregate, suppressed statistical returns
for calendar periods through the outbox; an observatory accepts them from the authorities it trusts, combines
them, suppresses again and publishes (Markdown, CSV, JSON, SDMX-CSV, web page). Never row-level data."""

from __future__ import annotations

from engine.observatory.figures import Row, combine, raw_rows, suppress
from engine.observatory.periods import GRANULARITIES, Period, parse_period
from engine.observatory.publish import Published, add_member, config, publish, received_returns, register
from engine.observatory.render import FORMATS, render
from engine.observatory.returns import KIND, build_return, queue_return

__all__ = [
    "FORMATS",
    "GRANULARITIES",
    "KIND",
    "Period",
    "Published",
    "Row",
    "add_member",
    "build_return",
    "combine",
    "config",
    "parse_period",
    "publish",
    "queue_return",
    "raw_rows",
    "received_returns",
    "register",
    "render",
    "suppress",
]
