"""Compile a schema into plain Python predicates: the fast path for the (common) valid payload.

jsonschema interprets the schema keyword by keyword on every call; for a full MLA request that is far below the
20,000 validations per second we need. Here each (sub)schema becomes one closure, once. The closure only answers
"valid or not"; when it says "not", :mod:`engine.forms._validate` asks jsonschema for the authoritative list of
errors. Only the keywords our schemas use are supported: anything else raises :class:`Unsupported` at compile
time and the caller falls back to jsonschema alone, so the fast path can never silently ignore a rule.
Property-based tests check that both paths agree on random and mutated documents.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jsonschema import FormatChecker
from jsonschema._utils import uniq  # same equality rules as jsonschema (1 != True) for uniqueItems

if TYPE_CHECKING:  # only for annotations: the class is not re-exported by referencing
    from referencing._core import Resolver

Check = Callable[[Any], bool]

# Annotations: no effect on validity.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default"})


class Unsupported(Exception):
    """The schema uses a keyword the fast path does not implement."""


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def _is_integer(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, float):
        return v.is_integer()
    return isinstance(v, int)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    "integer": _is_integer,
}


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]

    def check(v: Any) -> bool:
        for c in checks:
            if not c(v):
                return False
        return True

    return check


class Compiler:
    """Compiles schemas reachable from one registry; ``skip`` names keywords to ignore (draft mode)."""

    def __init__(self, format_checker: FormatChecker, skip: frozenset[str] = frozenset()) -> None:
        self.format_checker = format_checker
        self.skip = skip
        self._memo: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: Resolver[Any]) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        key = id(schema)
        if key in self._memo:
            return self._memo[key]
        # Placeholder first so a recursive $ref finds something; replaced by the real check below.
        slot: list[Check] = []
        self._memo[key] = lambda v: slot[0](v)
        check = self._compile(schema, resolver)
        slot.append(check)
        self._memo[key] = check
        return check

    def _compile(self, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        checks: list[Check] = []
        consumed: set[str] = set()
        kind = schema.get("type")
        # One fused closure for the common typed shapes: far fewer Python calls than a closure per keyword.
        if kind == "object":
            checks.append(self._object(schema, resolver, consumed))
        elif kind == "string":
            checks.append(self._string(schema, consumed))
        elif kind == "array":
            checks.append(self._array(schema, resolver, consumed))
        elif "type" in schema:
            types = kind if isinstance(kind, list) else [kind]
            tests = [_TYPES[t] for t in types]
            checks.append(tests[0] if len(tests) == 1 else (lambda v, tests=tests: any(t(v) for t in tests)))
            consumed.add("type")
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-") or keyword in consumed or keyword in self.skip:
                continue
            builder = getattr(self, "_k_" + keyword.replace("$", "_"), None)
            if builder is None:
                raise Unsupported(keyword)
            built = builder(value, schema, resolver)
            if built is not None:
                checks.append(built)
        return _all(checks)

    def _active(self, schema: dict[str, Any], keyword: str, consumed: set[str]) -> Any:
        consumed.add(keyword)
        return None if keyword in self.skip else schema.get(keyword)

    def _object(self, schema: dict[str, Any], resolver: Resolver[Any], consumed: set[str]) -> Check:
        consumed.add("type")
        required = tuple(self._active(schema, "required", consumed) or ())
        props = {name: self.compile(sub, resolver) for name, sub in schema.get("properties", {}).items()}
        consumed.add("properties")
        closed = schema.get("additionalProperties") is False and "patternProperties" not in schema
        if closed:
            consumed.add("additionalProperties")
        known = frozenset(props)
        get = props.get

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return False
            for name in required:
                if name not in v:
                    return False
            if closed and not known.issuperset(v):
                return False
            for key, value in v.items():
                sub = get(key)
                if sub is not None and not sub(value):
                    return False
            return True

        return check

    def _string(self, schema: dict[str, Any], consumed: set[str]) -> Check:
        consumed.add("type")
        low = self._active(schema, "minLength", consumed) or 0
        high = self._active(schema, "maxLength", consumed)
        high = float("inf") if high is None else high
        pattern = self._active(schema, "pattern", consumed)
        search = re.compile(pattern).search if pattern is not None else None
        fmt = self._active(schema, "format", consumed)
        conforms = self.format_checker.conforms

        def check(v: Any) -> bool:
            if not isinstance(v, str):
                return False
            if not low <= len(v) <= high:
                return False
            if search is not None and search(v) is None:
                return False
            return fmt is None or conforms(v, fmt)

        return check

    def _array(self, schema: dict[str, Any], resolver: Resolver[Any], consumed: set[str]) -> Check:
        consumed.add("type")
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        low = self._active(schema, "minItems", consumed) or 0
        high = self._active(schema, "maxItems", consumed)
        high = float("inf") if high is None else high
        items = self.compile(schema.get("items", True), resolver)
        consumed.add("items")
        unique = self._k_uniqueItems(self._active(schema, "uniqueItems", consumed) or False, schema, resolver)

        def check(v: Any) -> bool:
            if not isinstance(v, list) or not low <= len(v) <= high:
                return False
            for item in v:
                if not items(item):
                    return False
            return unique is None or unique(v)

        return check

    # --- keywords --------------------------------------------------------------------------------------------
    def _k__ref(self, ref: str, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        resolved = resolver.lookup(ref)
        return self.compile(resolved.contents, resolved.resolver)

    def _k_properties(self, props: dict[str, Any], schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        compiled = [(name, self.compile(sub, resolver)) for name, sub in props.items()]

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, sub in compiled:
                if name in v and not sub(v[name]):
                    return False
            return True

        return check

    def _k_additionalProperties(self, ap: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        sub = self.compile(ap, resolver)

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            return all(sub(v[k]) for k in v if k not in known)

        return check

    def _k_required(self, names: list[str], schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)

    def _k_dependentRequired(self, deps: dict[str, list[str]], schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not isinstance(v, dict) or all(n in v for k, ns in deps.items() if k in v for n in ns)

    def _k_minProperties(self, n: int, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not isinstance(v, dict) or len(v) >= n

    def _k_items(self, items: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        sub = self.compile(items, resolver)
        return lambda v: not isinstance(v, list) or all(sub(i) for i in v)

    def _k_contains(self, contains: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        if "minContains" in schema or "maxContains" in schema:
            raise Unsupported("minContains")
        sub = self.compile(contains, resolver)
        return lambda v: not isinstance(v, list) or any(sub(i) for i in v)

    def _k_minItems(self, n: int, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= n

    def _k_maxItems(self, n: int, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not isinstance(v, list) or len(v) <= n

    def _k_uniqueItems(self, unique: bool, schema: dict[str, Any], resolver: Resolver[Any]) -> Check | None:
        if not unique:
            return None

        def check(v: Any) -> bool:
            if not isinstance(v, list):
                return True
            if all(type(i) is str for i in v):  # the common case, hashable and unambiguous
                return len(set(v)) == len(v)
            return bool(uniq(v))

        return check

    def _k_minLength(self, n: int, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= n

    def _k_maxLength(self, n: int, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= n

    def _k_pattern(self, pattern: str, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        search = re.compile(pattern).search
        return lambda v: not isinstance(v, str) or search(v) is not None

    def _k_format(self, fmt: str, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        conforms = self.format_checker.conforms
        return lambda v: conforms(v, fmt)

    def _k_enum(self, values: list[Any], schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        if not all(isinstance(x, str) for x in values):
            raise Unsupported("enum of non-strings")
        allowed = frozenset(values)
        return lambda v: isinstance(v, str) and v in allowed

    def _k_const(self, value: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        if not isinstance(value, str):
            raise Unsupported("const of a non-string")
        return lambda v: isinstance(v, str) and v == value

    def _k_minimum(self, n: float, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not _is_number(v) or v >= n

    def _k_maximum(self, n: float, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return lambda v: not _is_number(v) or v <= n

    def _k_allOf(self, subs: list[Any], schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        return _all([self.compile(s, resolver) for s in subs])

    def _k_anyOf(self, subs: list[Any], schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        compiled = [self.compile(s, resolver) for s in subs]
        return lambda v: any(c(v) for c in compiled)

    def _k_oneOf(self, subs: list[Any], schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        compiled = [self.compile(s, resolver) for s in subs]
        return lambda v: sum(1 for c in compiled if c(v)) == 1

    def _k_not(self, sub: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Check:
        compiled = self.compile(sub, resolver)
        return lambda v: not compiled(v)

    def _k_if(self, sub: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Check | None:
        if "then" not in schema and "else" not in schema:
            return None
        cond = self.compile(sub, resolver)
        then = self.compile(schema.get("then", True), resolver)
        other = self.compile(schema.get("else", True), resolver)
        return lambda v: then(v) if cond(v) else other(v)

    def _k_then(self, sub: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> None:
        return None  # handled with "if"

    _k_else = _k_then
