"""The deadline policy as data: ``engine/config/deadlines.toml``, merged with the operator's override file.

:func:`load_policy` reads and validates it once per process (``EXHORTO_DEADLINE_POLICY`` names the override);
:meth:`Policy.clocks_for` gives the clocks of one legal basis. A wrong file is refused with
:class:`InvalidPolicy`, naming the key and why.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from engine.deadlines.calendar import Unit
from engine.errors import ExhortoError
from engine.i18n import N_
from engine.lifecycle import ACTIONS, Side

POLICY_ENV = "EXHORTO_DEADLINE_POLICY"
RECIPIENTS = frozenset({"clerk", "judge", "supervisor", "counterpart", "webhook"})
EXTRA_ACTIONS = frozenset({"receive"})  # the requested record opens when the request arrives


class InvalidPolicy(ExhortoError):
    code = "invalid_policy"
    template = N_("Deadline policy {source}: {key}: {reason}")


@dataclass(frozen=True)
class Level:
    number: int  # 1-based position on the ladder; (deadline, number) is sent exactly once
    name: str
    at: float
    grace: int = 0
    grace_unit: Unit = Unit.CALENDAR_DAYS
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClockRule:
    kind: str
    side: Side
    responsible: str  # self | counterpart
    start: frozenset[str]
    stop: frozenset[str] = frozenset()
    cancel: frozenset[str] = frozenset()
    pause: frozenset[str] = frozenset()
    resume: frozenset[str] = frozenset()
    period: int = 30
    unit: Unit = Unit.CALENDAR_DAYS
    urgent_period: int | None = None
    urgent_unit: Unit | None = None
    use_due_date: bool = False
    ladder: tuple[Level, ...] = ()

    def length(self, urgent: bool) -> tuple[int, Unit]:
        if urgent and self.urgent_period is not None:
            return self.urgent_period, self.urgent_unit or self.unit
        return self.period, self.unit


@dataclass(frozen=True)
class Policy:
    source: str
    default: tuple[ClockRule, ...]
    by_basis: Mapping[str, tuple[ClockRule, ...]]
    # Which actions move any clock, per (basis, side): asked on every lifecycle action, so derived once here.
    _moving: dict[tuple[str, str], frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        moving: dict[tuple[str, str], frozenset[str]] = {}
        for basis, rules in [("", self.default), *self.by_basis.items()]:
            for side in {rule.side for rule in rules}:
                moving[(basis, side)] = frozenset().union(
                    *(r.start | r.stop | r.cancel | r.pause | r.resume for r in rules if r.side == side))
        object.__setattr__(self, "_moving", moving)

    def clocks_for(self, legal_basis: str | None) -> tuple[ClockRule, ...]:
        return self.by_basis.get(legal_basis or "", self.default)

    def moves_a_clock(self, legal_basis: str | None, side: str, action: str) -> bool:
        """Whether ``action`` starts, stops, cancels, pauses or resumes any clock of this basis on this side."""
        basis = legal_basis if legal_basis in self.by_basis else ""
        return action in self._moving.get((basis, side), ())

    def clock(self, legal_basis: str | None, kind: str) -> ClockRule | None:
        return next((rule for rule in self.clocks_for(legal_basis) if rule.kind == kind), None)

    def bases(self) -> list[str]:
        return sorted(self.by_basis)


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, any other value in ``override`` replaces the base's."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def builtin_text() -> str:
    return files("engine").joinpath("config/deadlines.toml").read_text(encoding="utf-8")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidPolicy(source=str(path), key="-", reason="no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidPolicy(source=str(path), key="-", reason=f"not valid TOML ({error})") from None


def parse(data: Mapping[str, Any], source: str) -> Policy:
    """Validate the merged document and build the policy."""
    ladders = {
        name: _ladder(spec, f"ladder.{name}", source) for name, spec in _table(data, "ladder", source).items()
    }
    defaults = _table(_table(data, "defaults", source), "clocks", source, "defaults")
    default = _clocks(defaults, ladders, "defaults.clocks", source)
    by_basis: dict[str, tuple[ClockRule, ...]] = {}
    for basis, spec in _table(data, "basis", source).items():
        if not isinstance(spec, Mapping):
            raise InvalidPolicy(source=source, key=f"basis.{basis}", reason="expected a table")
        specific = _table(spec, "clocks", source, f"basis.{basis}")
        merged = merge(defaults, specific)
        by_basis[basis] = _clocks(merged, ladders, f"basis.{basis}.clocks", source)
    return Policy(source=source, default=default, by_basis=by_basis)


def _table(data: Mapping[str, Any], key: str, source: str, where: str = "") -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise InvalidPolicy(source=source, key=f"{where}.{key}".strip("."), reason="expected a table")
    return value


def _clocks(
    specs: Mapping[str, Any], ladders: Mapping[str, tuple[Level, ...]], where: str, source: str
) -> tuple[ClockRule, ...]:
    rules = []
    for kind, spec in specs.items():
        if not isinstance(spec, Mapping):
            raise InvalidPolicy(source=source, key=f"{where}.{kind}", reason="expected a table")
        if spec.get("enabled", True) is False:
            continue
        rules.append(_clock(kind, spec, ladders, f"{where}.{kind}", source))
    return tuple(rules)


def _clock(
    kind: str, spec: Mapping[str, Any], ladders: Mapping[str, tuple[Level, ...]], where: str, source: str
) -> ClockRule:
    def bad(key: str, reason: str) -> InvalidPolicy:
        return InvalidPolicy(source=source, key=f"{where}.{key}", reason=reason)

    known = {
        "side",
        "responsible",
        "start",
        "stop",
        "cancel",
        "pause",
        "resume",
        "period",
        "unit",
        "urgent_period",
        "urgent_unit",
        "use_due_date",
        "ladder",
        "enabled",
    }
    for key in spec:
        if key not in known:
            raise bad(key, f"unknown key; known keys: {', '.join(sorted(known))}")
    try:
        side = Side(spec.get("side", ""))
    except ValueError:
        raise bad("side", "expected requesting or requested") from None
    responsible = spec.get("responsible", "self")
    if responsible not in ("self", "counterpart"):
        raise bad("responsible", "expected self or counterpart")

    def actions(key: str) -> frozenset[str]:
        value = spec.get(key, [])
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise bad(key, "expected a list of action names")
        unknown = [a for a in value if a not in ACTIONS and a not in EXTRA_ACTIONS]
        if unknown:
            raise bad(key, f"unknown action {unknown[0]!r}")
        return frozenset(value)

    def unit(key: str, default: Unit | None) -> Unit | None:
        if key not in spec:
            return default
        try:
            return Unit(spec[key])
        except ValueError:
            raise bad(key, f"expected one of {', '.join(u.value for u in Unit)}") from None

    def period(key: str, required: bool) -> int | None:
        value = spec.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise bad(key, "expected a positive whole number")
        return value

    start = actions("start")
    if not start:
        raise bad("start", "give at least one action that starts the clock")
    ladder_name = spec.get("ladder", "standard")
    if ladder_name not in ladders:
        raise bad("ladder", f"no [ladder.{ladder_name}] table")
    if not isinstance(spec.get("use_due_date", False), bool):
        raise bad("use_due_date", "expected true or false")
    return ClockRule(
        kind=kind,
        side=side,
        responsible=responsible,
        start=start,
        stop=actions("stop"),
        cancel=actions("cancel"),
        pause=actions("pause"),
        resume=actions("resume"),
        period=period("period", True) or 0,
        unit=unit("unit", Unit.CALENDAR_DAYS) or Unit.CALENDAR_DAYS,
        urgent_period=period("urgent_period", False),
        urgent_unit=unit("urgent_unit", None),
        use_due_date=bool(spec.get("use_due_date", False)),
        ladder=ladders[ladder_name],
    )


def _ladder(spec: Any, where: str, source: str) -> tuple[Level, ...]:
    levels = spec.get("levels") if isinstance(spec, Mapping) else None
    if not isinstance(levels, list) or not levels:
        raise InvalidPolicy(
            source=source, key=f"{where}.levels", reason="expected a non-empty list of levels"
        )
    result: list[Level] = []
    for number, level in enumerate(levels, start=1):
        key = f"{where}.levels[{number}]"
        if not isinstance(level, Mapping) or not isinstance(level.get("name"), str):
            raise InvalidPolicy(source=source, key=key, reason="each level needs a name")
        at = level.get("at")
        if isinstance(at, bool) or not isinstance(at, int | float) or not 0 < at <= 1:
            raise InvalidPolicy(source=source, key=f"{key}.at", reason="expected a fraction in (0, 1]")
        grace = level.get("grace", 0)
        if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
            raise InvalidPolicy(source=source, key=f"{key}.grace", reason="expected a whole number ≥ 0")
        try:
            grace_unit = Unit(level.get("grace_unit", "calendar_days"))
        except ValueError:
            raise InvalidPolicy(source=source, key=f"{key}.grace_unit", reason="unknown unit") from None
        notify = level.get("notify", [])
        if not isinstance(notify, list) or any(r not in RECIPIENTS for r in notify):
            raise InvalidPolicy(
                source=source,
                key=f"{key}.notify",
                reason=f"expected a list among {', '.join(sorted(RECIPIENTS))}",
            )
        previous = result[-1] if result else None
        if previous and (at, grace) < (previous.at, previous.grace):
            raise InvalidPolicy(source=source, key=key, reason="levels must come in time order")
        result.append(
            Level(
                number=number,
                name=level["name"],
                at=float(at),
                grace=grace,
                grace_unit=grace_unit,
                notify=tuple(notify),
            )
        )
    return tuple(result)


def policy_from(override: Path | None) -> Policy:
    data = tomllib.loads(builtin_text())
    source = "engine/config/deadlines.toml"
    if override is not None:
        data = merge(data, read_toml(override))
        source = f"{source} + {override}"
    return parse(data, source)


@cache
def _cached(override: str | None) -> Policy:
    return policy_from(Path(override) if override else None)


def load_policy() -> Policy:
    """The effective policy: built-in, merged with the file named by ``EXHORTO_DEADLINE_POLICY`` if set."""
    return _cached(os.environ.get(POLICY_ENV) or None)


__all__ = [
    "POLICY_ENV",
    "ClockRule",
    "InvalidPolicy",
    "Level",
    "Policy",
    "load_policy",
    "merge",
    "parse",
    "policy_from",
]
