"""Compile a schema into Python source: the fast path for the (common) valid payload.

jsonschema interprets a schema keyword by keyword on every call (~170 full requests/s here, far below the
20,000 we need). Here each object schema becomes one generated Python function, once; strings, numbers and
lists are checked inline, so a valid request costs a few hundred bytecode-level comparisons and ~30 calls. The
generated function only answers "valid or not"; when it says "not", :mod:`engine.forms._validate` asks
jsonschema for the authoritative list of errors, so messages never depend on this module. Only the keywords
our schemas use are supported: anything else raises :class:`Unsupported` at compile time and the caller falls
back to jsonschema alone — the fast path can never silently ignore a rule. Property-based tests check that
both paths agree on random and mutated documents.
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
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default"}
)
_BY_TYPE = {
    "object": ("properties", "required", "additionalProperties", "dependentRequired", "minProperties"),
    "array": ("items", "minItems", "maxItems", "uniqueItems", "contains"),
    "string": ("minLength", "maxLength", "pattern"),
    "number": ("minimum", "maximum"),
}
_GUARDS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "number": "_is_number({v})",
}
_TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "number": "_is_number({v})",
    "integer": "_is_integer({v})",
}
_SUPPORTED = frozenset(k for ks in _BY_TYPE.values() for k in ks) | {
    "type",
    "$ref",
    "enum",
    "const",
    "format",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
}


_LEAVES = ("string", "number", "integer", "boolean")


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


def _unique(v: list[Any]) -> bool:
    # Python-distinct implies jsonschema-distinct (its equality is finer: 1 != True), so a set of full size
    # proves uniqueness; anything else (collisions, unhashable items) is decided by jsonschema's own rule.
    try:
        if len(set(v)) == len(v):
            return True
    except TypeError:
        pass
    return bool(uniq(v))


class Compiler:
    """Generates one module of functions per root schema; ``skip`` names keywords to ignore (draft mode)."""

    def __init__(self, format_checker: FormatChecker, skip: frozenset[str] = frozenset()) -> None:
        self.format_checker = format_checker
        self.skip = skip
        self.namespace: dict[str, Any] = {
            "_is_number": _is_number,
            "_is_integer": _is_integer,
            "_unique": _unique,
        }
        self.functions: dict[int, str] = {}
        self.sources: list[str] = []
        self._counter = 0
        self._inlining: set[int] = set()

    def compile(self, schema: Any, resolver: Resolver[Any]) -> Check:
        name = self._function(schema, resolver)
        exec("\n\n".join(self.sources), self.namespace)  # noqa: S102 - source generated from our own schemas
        check: Check = self.namespace[name]
        return check

    # --- helpers --------------------------------------------------------------------------------------------
    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def _const(self, value: Any) -> str:
        name = self._name("c")
        self.namespace[name] = value
        return name

    def _function(self, schema: Any, resolver: Resolver[Any]) -> str:
        """A top-level function checking ``schema`` (memoized, so recursion and shared $defs work)."""
        key = id(schema)
        if key in self.functions:
            return self.functions[key]
        name = self.functions[key] = self._name("f")
        body = self._emit(schema, resolver, "v", 1)
        self.sources.append("\n".join([f"def {name}(v):", *body, "    return True"]))
        return name

    # --- statements: each block returns False from the enclosing function when the value fails --------------
    def _emit(self, schema: Any, resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        if not isinstance(schema, dict):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        for keyword in schema:
            if keyword not in _SUPPORTED and keyword not in _ANNOTATIONS and not keyword.startswith("x-"):
                raise Unsupported(keyword)
        active = {k: val for k, val in schema.items() if k not in self.skip}
        out: list[str] = []
        declared = active.get("type")
        if declared is not None:
            types = declared if isinstance(declared, list) else [declared]
            test = " or ".join(_TYPE_TESTS[t].format(v=v) for t in types)
            out.append(f"{pad}if not ({test}): return False")
        if "$ref" in active:
            resolved = resolver.lookup(active["$ref"])
            target, target_resolver = resolved.contents, resolved.resolver
            # Leaf schemas (strings, numbers) are inlined; objects and lists get a shared function: measured,
            # full inlining was no faster and multiplies the generated code.
            leaf = isinstance(target, dict) and target.get("type") in _LEAVES
            if leaf and id(target) not in self._inlining and depth < 10:
                self._inlining.add(id(target))
                out += self._emit(target, target_resolver, v, depth)
                self._inlining.discard(id(target))
            else:
                out.append(f"{pad}if not {self._function(target, target_resolver)}({v}): return False")
        if "enum" in active:
            if not all(isinstance(x, str) for x in active["enum"]):
                raise Unsupported("enum of non-strings")
            allowed = self._const(frozenset(active["enum"]))
            if declared == "string":  # already tested above; `in` on an unhashable value would raise
                out.append(f"{pad}if {v} not in {allowed}: return False")
            else:
                out.append(f"{pad}if not (isinstance({v}, str) and {v} in {allowed}): return False")
        if "const" in active:
            if not isinstance(active["const"], str):
                raise Unsupported("const of a non-string")
            out.append(f"{pad}if not (isinstance({v}, str) and {v} == {active['const']!r}): return False")
        if "format" in active:
            out += self._format(active["format"], v, depth)
            members = getattr(self.format_checker.checkers.get(active["format"], (None,))[0], "members", None)
            if members is not None and "pattern" in active:
                # Every code of the list matches the pattern (checked here, once): the set lookup implies it.
                search = re.compile(active["pattern"]).search
                if all(search(code) for code in members):
                    active.pop("pattern")
        for kind, keywords in _BY_TYPE.items():
            present = [k for k in keywords if k in active]
            if not present:
                continue
            exact = declared == kind or (kind == "number" and declared == "integer")
            inner = depth if exact else depth + 1
            block = [line for k in present for line in getattr(self, "_k_" + k)(active, resolver, v, inner)]
            if exact:
                out += block
            elif block:
                out += [f"{pad}if {_GUARDS[kind].format(v=v)}:", *block]
        for sub in active.get("allOf", []):
            out += self._emit(sub, resolver, v, depth)
        if "anyOf" in active:
            calls = " or ".join(f"{self._function(s, resolver)}({v})" for s in active["anyOf"])
            out.append(f"{pad}if not ({calls}): return False")
        if "oneOf" in active:
            calls = " + ".join(f"bool({self._function(s, resolver)}({v}))" for s in active["oneOf"])
            out.append(f"{pad}if ({calls}) != 1: return False")
        if "not" in active:
            out.append(f"{pad}if {self._function(active['not'], resolver)}({v}): return False")
        if "if" in active and ("then" in active or "else" in active):
            then = self._emit(active.get("then", True), resolver, v, depth + 1) or [f"{pad}    pass"]
            other = self._emit(active.get("else", True), resolver, v, depth + 1) or [f"{pad}    pass"]
            out += [f"{pad}if {self._function(active['if'], resolver)}({v}):", *then, f"{pad}else:", *other]
        return out

    def _format(self, fmt: str, v: str, depth: int) -> list[str]:
        pad = "    " * depth
        if fmt not in self.format_checker.checkers:
            return []  # unknown formats are annotations, as in jsonschema
        func, raises = self.format_checker.checkers[fmt]
        members = getattr(func, "members", None)
        if members is not None:  # a code list: a set lookup inline instead of a call
            return [f"{pad}if isinstance({v}, str) and {v} not in {self._const(members)}: return False"]
        f, r = self._const(func), self._const(raises)
        return [
            f"{pad}try:",
            f"{pad}    if not {f}({v}): return False",
            f"{pad}except {r}:",
            f"{pad}    return False",
        ]

    # Keyword emitters below may assume the value already has their type.
    def _k_properties(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        pad, out = "    " * depth, []
        missing = self._const(object())
        # A closed object (additionalProperties: false) is checked by counting the known members met on the
        # way: no unknown key exists iff the count equals len(). Measured: a third of the time of set views.
        closed = s.get("additionalProperties") is False
        count = self._name("n")
        if closed:
            out.append(f"{pad}{count} = 0")
        for name, sub in s["properties"].items():
            body = self._emit(sub, resolver, (y := self._name("y")), depth + 1)
            if closed:
                body = [f"{pad}    {count} += 1", *body]
            if body:
                out += [f"{pad}{y} = {v}.get({name!r}, {missing})", f"{pad}if {y} is not {missing}:", *body]
        if closed:
            out.append(f"{pad}if {count} != len({v}): return False")
        return out

    def _k_required(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        if not s["required"]:
            return []
        missing = " or ".join(f"{name!r} not in {v}" for name in s["required"])
        return [f"{'    ' * depth}if {missing}: return False"]

    def _k_additionalProperties(
        self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int
    ) -> list[str]:
        pad, known = "    " * depth, self._const(frozenset(s.get("properties", {})))
        if s["additionalProperties"] is False:
            if "properties" in s:
                return []  # counted in _k_properties
            return [f"{pad}if len({v}): return False"]
        body = self._emit(s["additionalProperties"], resolver, f"{v}[k]", depth + 2)
        return [f"{pad}for k in {v}:", f"{pad}    if k not in {known}:", *body] if body else []

    def _k_dependentRequired(
        self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int
    ) -> list[str]:
        pad = "    " * depth
        return [
            f"{pad}if {k!r} in {v} and not {v}.keys() >= {self._const(frozenset(ns))}: return False"
            for k, ns in s["dependentRequired"].items()
        ]

    def _k_minProperties(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        return [f"{'    ' * depth}if len({v}) < {int(s['minProperties'])}: return False"]

    def _k_items(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        y = self._name("y")
        body = self._emit(s["items"], resolver, y, depth + 1)
        return [f"{'    ' * depth}for {y} in {v}:", *body] if body else []

    def _k_contains(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        if "minContains" in s or "maxContains" in s:
            raise Unsupported("minContains")
        f = self._function(s["contains"], resolver)
        return [f"{'    ' * depth}if not any({f}(i) for i in {v}): return False"]

    def _k_minItems(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        return [f"{'    ' * depth}if len({v}) < {int(s['minItems'])}: return False"]

    def _k_maxItems(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        return [f"{'    ' * depth}if len({v}) > {int(s['maxItems'])}: return False"]

    def _k_uniqueItems(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        return [f"{'    ' * depth}if not _unique({v}): return False"] if s["uniqueItems"] else []

    def _k_minLength(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        # One comparison chain for both bounds: this runs for every string of every payload.
        high = f" <= {int(s['maxLength'])}" if "maxLength" in s and "maxLength" not in self.skip else ""
        return [f"{'    ' * depth}if not {int(s['minLength'])} <= len({v}){high}: return False"]

    def _k_maxLength(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        if "minLength" in s and "minLength" not in self.skip:
            return []  # emitted with minLength
        return [f"{'    ' * depth}if len({v}) > {int(s['maxLength'])}: return False"]

    def _k_pattern(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        search = self._const(re.compile(s["pattern"]).search)
        return [f"{'    ' * depth}if {search}({v}) is None: return False"]

    def _k_minimum(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        return [f"{'    ' * depth}if {v} < {self._const(s['minimum'])}: return False"]

    def _k_maximum(self, s: dict[str, Any], resolver: Resolver[Any], v: str, depth: int) -> list[str]:
        return [f"{'    ' * depth}if {v} > {self._const(s['maximum'])}: return False"]
