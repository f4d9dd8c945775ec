"""The reference the engine's validator (jsonschema-rs) is checked against: jsonschema, the Python implementation.

It reads the original schemas (formats as format checkers, drafts by switching keywords off), not the rewritten
copies the engine compiles, so a mistake in that rewrite shows up as a disagreement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from engine.forms._catalog import SchemaCatalog, default_catalog
from engine.forms._compile import DRAFT_SKIPPED
from engine.forms._formats import format_checker
from engine.forms._validate import _CODES as ENGINE_CODES
from engine.forms._validate import to_pointer

# The same keyword -> error code table as the engine (the codes are the contract); jsonschema also reports
# dependentRequired, which jsonschema-rs folds into "required".
_CODES = {**ENGINE_CODES, "dependentRequired": "required"}


def _ignore(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    return iter(())


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    # JSON Schema patterns are ECMA-262 regular expressions, where "$" matches only at the very end; Python's "$"
    # also matches before a final newline, so jsonschema accepts "+34 91 123 45 67\n" as a phone number. Our
    # schemas' patterns use "$" only as the closing anchor, which is all this translation handles.
    if isinstance(instance, str) and not re.search(re.sub(r"(?<!\\)\$", r"\\Z", pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


ReferenceValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})
DraftValidator = validators.extend(ReferenceValidator, {k: _ignore for k in DRAFT_SKIPPED})


@cache
def reference_validator(sid: str, complete: bool, catalog: SchemaCatalog | None = None) -> Any:
    catalog = catalog or default_catalog()
    cls = ReferenceValidator if complete else DraftValidator
    return cls(catalog.schemas[sid], registry=catalog.registry, format_checker=format_checker())


def reference_codes(form: str, doc: Any, complete: bool) -> set[tuple[str, str]]:
    """(pointer, code) of every problem jsonschema finds, grouped the way the engine groups them."""
    sid = default_catalog().schema_id(form)
    out: set[tuple[str, str]] = set()
    for error in reference_validator(sid, complete).iter_errors(doc):
        path = tuple(error.absolute_path)
        code = _CODES.get(str(error.validator), "invalid")
        if code == "required":
            wanted = error.validator_value
            names = (
                wanted
                if isinstance(wanted, list)
                else [n for k, ns in wanted.items() if k in error.instance for n in ns]
            )
            out |= {(to_pointer(path + (n,)), code) for n in names if n not in error.instance}
        elif code == "unknown_field":
            known = error.schema.get("properties", {})
            patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
            out |= {
                (to_pointer(path + (k,)), code)
                for k in error.instance
                if k not in known and not any(p.search(k) for p in patterns)
            }
        else:
            out.add((to_pointer(path), code))
    return {(p, c) for p, c in out if not (c == "pattern" and (p, "format") in out)}
