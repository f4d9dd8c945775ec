"""Deadlines: policy as data, business-day arithmetic, clocks on lifecycle moves, escalation ladder, tracking.

The lifecycle calls :func:`on_transition` inside each transition's transaction; the sweep
(:func:`sweep_once`, run by the Prefect flow ``deadline_sweep`` in ``workflows/``) claims each due ladder
level exactly once and sends its notifications through :mod:`engine.notify`.
"""

from __future__ import annotations

from engine.deadlines.calendar import Unit, add_period, is_business_day
from engine.deadlines.clocks import extend, moves_clocks, on_transition
from engine.deadlines.policy import POLICY_ENV, InvalidPolicy, Policy, load_policy

__all__ = [
    "POLICY_ENV",
    "InvalidPolicy",
    "Policy",
    "Unit",
    "add_period",
    "extend",
    "is_business_day",
    "load_policy",
    "moves_clocks",
    "on_transition",
]
