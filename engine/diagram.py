"""Render the lifecycle table for people: a Markdown table and a Mermaid state diagram."""

from __future__ import annotations

from engine.guards import UNIVERSAL_GUARDS
from engine.i18n import translate
from engine.lifecycle import STAGES, TRANSITIONS, Side, State


def markdown_table(lang: str = "en") -> str:
    lines = [
        "| " + " | ".join(translate(lang, h) for h in ("From", "Action", "To", "Side", "Roles", "Guards",
                                                           "Form", "Sends")) + " |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        lines.append("| " + " | ".join([
            t.from_state.value, f"`{t.action}`", t.to_state.value, t.side.value,
            ", ".join(sorted(r.value for r in t.roles)), ", ".join(t.guards) or "—", t.form or "—",
            t.sends or "—",
        ]) + " |")
    lines.append("")
    lines.append(f"Every action is also subject to: {', '.join(UNIVERSAL_GUARDS)}. "
                 "Rows with role `system` are applied when the counterpart's message arrives.")
    return "\n".join(lines)


def mermaid(side: Side) -> str:
    lines = ["stateDiagram-v2"]
    start = State.DRAFT if side is Side.REQUESTING else State.DELIVERED
    lines.append(f"    [*] --> {start.value}" + ("" if side is Side.REQUESTING else " : receive request"))
    for stage, states in STAGES.items():
        members = [s for s in states if any((t.from_state == s or t.to_state == s) and t.side == side
                                            for t in TRANSITIONS) or s == start]
        if members:
            lines.append(f"    state \"{stage}\" as stage_{stage} {{")
            lines.extend(f"        {s.value}" for s in members)
            lines.append("    }")
    seen: set[tuple[str, str, str]] = set()
    for t in TRANSITIONS:
        key = (t.from_state.value, t.to_state.value, t.action)
        if t.side == side and key not in seen:
            seen.add(key)
            lines.append(f"    {t.from_state.value} --> {t.to_state.value} : {t.action}")
    lines.extend(f"    {s.value} --> [*]" for s in (State.CLOSED, State.WITHDRAWN))
    return "\n".join(lines)


def document(lang: str = "en") -> str:
    parts = ["## Lifecycle", ""]
    for side in Side:
        parts += [f"### {side.value.capitalize()} side", "", "```mermaid", mermaid(side), "```", ""]
    parts += ["### Transition table", "", markdown_table(lang), ""]
    parts += ["### Guards", "", guards_table(), ""]
    return "\n".join(parts)


def guards_table() -> str:
    """Each guard of the table with what it requires, from its own docstring (one source of truth)."""
    from engine.guards import GUARDS

    rows = ["| guard | requires |", "|---|---|"]
    for name, guard in GUARDS.items():
        text = " ".join((guard.__doc__ or "").split())
        rows.append(f"| {name} | {text} |")
    return "\n".join(rows)
