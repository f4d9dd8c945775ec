"""The catalogue's schemas as jsonschema-rs validators, one per schema ``$id`` and mode, built once.

jsonschema-rs runs the whole validation in Rust. Two things are rewritten into plain JSON Schema first, on a copy
of every schema of the catalogue, so that no Python code runs per document:

- the project's own formats (:mod:`engine.forms._formats`) become ``pattern`` keywords (a Python format callback
  costs ~0.2 µs per string, a quarter of a whole request's validation), and ``date``/``date-time`` get one beside
  the native check;
- for drafts (``complete=False``) the presence and minimum-size keywords are removed, so a half-filled form can
  be saved while what is present still has the right type, format, code list value and pattern.

Only keywords are touched: the walk knows which members of a schema are subschemas, so a property that happens to
be called ``required`` or ``format`` is data and stays as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema_rs

from engine.forms._formats import NARROWED, schema_patterns

# Keywords a draft may break: everything about presence and minimum sizes.
DRAFT_SKIPPED = frozenset({"required", "dependentRequired", "minItems", "minLength", "minProperties"})

# Draft 2020-12 (and the older spellings): where a schema holds other schemas.
_ONE = frozenset({"items", "additionalItems", "additionalProperties", "unevaluatedProperties", "unevaluatedItems",
                  "contains", "propertyNames", "not", "if", "then", "else"})
_MANY = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_NAMED = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


def rewrite(schema: Any, *, complete: bool) -> Any:
    """A copy of ``schema`` that jsonschema-rs can check without calling back into Python."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    extra: list[dict[str, Any]] = []
    for key, value in schema.items():
        if not complete and key in DRAFT_SKIPPED:
            continue
        if key == "format" and value in schema_patterns():
            extra.append({"pattern": schema_patterns()[value]})
            if value in NARROWED:
                out[key] = value
        elif key in _ONE or (key == "items" and isinstance(value, dict | bool)):
            out[key] = rewrite(value, complete=complete)
        elif key in _MANY or (key == "items" and isinstance(value, list)):
            out[key] = [rewrite(s, complete=complete) for s in value]
        elif key in _NAMED and isinstance(value, dict):
            out[key] = {name: rewrite(s, complete=complete) for name, s in value.items()}
        else:
            out[key] = value
    if extra:
        # Beside any pattern the schema has already.
        out["allOf"] = [*out.get("allOf", []), *extra]
    return out


def format_of_pattern() -> dict[str, str]:
    """The reverse of the rewrite: a ``pattern`` error with one of these patterns is that format's error."""
    return {pattern: name for name, pattern in schema_patterns().items()}


def build(schemas: dict[str, Any], *, complete: bool) -> Callable[[str], Any]:
    """A factory of validators by ``$id`` over the rewritten copies of ``schemas`` (which ``$ref`` each other)."""
    rewritten = {sid: rewrite(schema, complete=complete) for sid, schema in schemas.items()}
    registry = jsonschema_rs.Registry(list(rewritten.items()))

    def validator(sid: str) -> Any:
        return jsonschema_rs.validator_for(rewritten[sid], registry=registry, validate_formats=True)

    return validator
