"""HTML forms generated from the JSON Schemas: a field tree to render, and the posted fields back to a
payload.

Every input is named by the RFC 6901 pointer of the value it edits (``/persons/0/surname``), the same pointer
:func:`engine.forms.validate` gives its errors, so each localized error is shown next to its own field.
Nothing here validates: the schema (server side) is the judge; the tree only carries client-side hints
(required marks, lengths, input types). Pure functions, no I/O beyond reading the schemas.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine import formatting, forms
from engine.documents import enum_msgid, person_at
from engine.i18n import is_language, localized, translate
from engine.web import pickers

SKIPPED = frozenset({"$schema"})
FILE_KEYS = frozenset({"name", "media_type", "size", "sha256"})
SHORT_TEXT_MAX = 300  # longer strings get a text area


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def child(pointer: str, key: str | int) -> str:
    return f"{pointer}/{escape(str(key))}"


# --- schema resolution --------------------------------------------------------------------------------------
def _walk(document: Mapping[str, Any], fragment: str) -> Mapping[str, Any]:
    node: Any = document
    for token in [t for t in fragment.split("/") if t]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(node: Mapping[str, Any], base: Mapping[str, Any]) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """``node`` with its ``$ref`` (and single-entry ``allOf``) merged in; sibling keywords (titles) win.
    Returns the merged node and the document its own local references resolve against."""
    merged = dict(node)
    while "$ref" in merged or "allOf" in merged:
        if "$ref" in merged:
            url, _, fragment = merged.pop("$ref").partition("#")
            if url:
                base = forms.load_schema(url)
            target = dict(_walk(base, fragment))
        else:
            target = {}
            for part in merged.pop("allOf"):
                resolved, base = resolve(part, base)
                target = {
                    **target,
                    **resolved,
                    "required": [*target.get("required", []), *resolved.get("required", [])],
                }
        own_required = merged.pop("required", [])
        merged = {**target, **merged, "required": [*target.get("required", []), *own_required]}
    return merged, base


def label(node: Mapping[str, Any], lang: str, fallback: str) -> str:
    titles = node.get("x-title") or {}
    return localized(titles, lang, "") or node.get("title") or fallback.replace("_", " ").capitalize()


# --- the field tree -----------------------------------------------------------------------------------------
@dataclass
class Field:
    pointer: str
    key: str
    label: str
    kind: str  # object | array | files | text | textarea | date | datetime | email | number | integer |
    #            enum | boolean | choices | lines | picks (a list of codes chosen from ``options``, one select each)
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    max_length: int | None = None
    minimum: float | None = None
    max_items: int | None = None
    errors: list[str] = field(default_factory=list)
    depth: int = 0
    readonly: bool = False  # set by the system (engine.system_fields): shown, never posted
    picker: str | None = None  # engine.web.pickers: a country, language or ICCS code chosen by name
    part: int = 0  # a group shown in several sections of the editor: its n-th part (0: the first, keeps the id)
    shown: str | None = None  # what a read-only page shows instead of the raw value (persons named, not numbered)

    @property
    def id(self) -> str:
        own = "f" + (self.pointer.replace("/", "-").replace("~", "_") or "-root")
        return f"{own}--{self.part}" if self.part else own

    @property
    def is_group(self) -> bool:
        return self.kind in ("object", "array", "files")

    def walk(self) -> list[Field]:
        return [self, *(f for c in self.children for f in c.walk())]


@dataclass(frozen=True)
class Context:
    lang: str
    timezone: str = "UTC"
    translate: Callable[[str], str] = str
    pickers: bool = False  # countries, languages and ICCS codes chosen from named lists (the request editor)


def _kind(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if "enum" in node:
        return "enum"
    if kind == "object":
        return "object"
    if kind == "array":
        return "array"
    if kind == "boolean":
        return "boolean"
    if kind in ("number", "integer"):
        return kind
    fmt = node.get("format")
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime"
    if fmt == "email":
        return "email"
    return "textarea" if node.get("maxLength", 0) > SHORT_TEXT_MAX else "text"


def _options(node: Mapping[str, Any], ctx: Context) -> list[tuple[str, str]]:
    values = [str(v) for v in node.get("enum", [])]
    # Values a schema version added carry their names in the schema (x-enum-titles); the others are in the catalogs.
    titled = node.get("x-enum-titles") or {}
    named = [v for v in values if v not in titled]
    options = []
    for value in values:
        msgid = enum_msgid(named, value) if value in named else None
        if value in titled:
            options.append((value, str(localized(titled[value], ctx.lang))))
        elif msgid:
            options.append((value, translate(ctx.lang, msgid)))
        elif is_language(value):  # document languages: their names in the reader's language
            options.append((value, formatting.language_name(value, ctx.lang)))
        else:
            options.append((value, value))
    return options


def build(
    form: str,
    payload: Mapping[str, Any],
    ctx: Context,
    errors: Mapping[str, list[str]] | None = None,
    *,
    skip: frozenset[str] = frozenset(),
) -> list[Field]:
    """The top-level fields of ``form`` filled with ``payload`` (errors attached by pointer)."""
    schema = forms.load_schema(form)
    root = _build(schema, schema, "", "", payload, ctx, required=True, depth=0)
    fields = [f for f in root.children if f.key not in skip]
    from engine.system_fields import pointers

    system = pointers(str(schema.get("$id", form)))  # any version of the form
    for item in (f for top in fields for f in top.walk()):
        item.errors = list((errors or {}).get(item.pointer, []))
        item.readonly = item.pointer in system
        if MEASURE_PERSONS.match(item.pointer):
            item.shown = _persons_named(item.pointer, payload)
    return fields


# A measure's persons are positions in the request's list of persons: pages show their names (as the PDF does).
MEASURE_PERSONS = re.compile(r"^/measures/(\d+)/persons$")


def _persons_named(pointer: str, payload: Mapping[str, Any]) -> str | None:
    measures = payload.get("measures")
    match = MEASURE_PERSONS.match(pointer)
    if match is None or not isinstance(measures, list):
        return None
    index = int(match.group(1))
    chosen = measures[index].get("persons") if index < len(measures) and isinstance(measures[index], dict) else None
    if not isinstance(chosen, list):
        return None
    # as the PDF names them (engine.documents): "1. Surname, Given names"
    return "; ".join(person_at(payload, p) if isinstance(p, int) else str(p) for p in chosen) or None


def _picker(raw: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    """The picker of a string field: its format (country, language) or its type of the common schema (ICCS)."""
    if node.get("format") in (pickers.COUNTRY, pickers.LANGUAGE):
        return str(node["format"])
    return pickers.ICCS if str(raw.get("$ref", "")).endswith("/iccs_code") else None


def _build(
    node: Mapping[str, Any],
    base: Mapping[str, Any],
    pointer: str,
    key: str,
    value: Any,
    ctx: Context,
    *,
    required: bool,
    depth: int,
) -> Field:
    raw = node
    node, base = resolve(node, base)
    kind = _kind(node)
    out = Field(
        pointer=pointer,
        key=key,
        label=label(node, ctx.lang, key),
        kind=kind,
        required=required,
        max_length=node.get("maxLength"),
        minimum=node.get("minimum"),
        max_items=node.get("maxItems"),
        depth=depth,
    )
    if kind == "object":
        present = value if isinstance(value, Mapping) else {}
        needed = set(node.get("required", []))
        for name, sub in node.get("properties", {}).items():
            if name in SKIPPED:
                continue
            out.children.append(
                _build(
                    sub,
                    base,
                    child(pointer, name),
                    name,
                    present.get(name, MISSING),
                    ctx,
                    # an optional group's own required fields are marked once the group is being filled in
                    required=name in needed and (required or bool(present)),
                    depth=depth + 1,
                )
            )
    elif kind == "array":
        _build_array(out, node, base, value, ctx)
    elif kind == "enum":
        out.options = _options(node, ctx)
        out.value = "" if value is MISSING or value is None else str(value)
    elif kind == "boolean":
        out.value = "" if not isinstance(value, bool) else ("true" if value else "false")
    elif kind == "datetime":
        out.value = _local_datetime(value, ctx.timezone)
    else:
        out.value = "" if value is MISSING or value is None else str(value)
        if ctx.pickers and kind == "text":
            _pick_one(out, _picker(raw, node), ctx)
    return out


def _pick_one(out: Field, picker: str | None, ctx: Context) -> None:
    out.picker = picker
    if picker == pickers.ICCS:
        out.value = pickers.iccs_shown(out.value, ctx.lang)
        out.max_length = None  # the entry shown is longer than the code posted back
    elif picker is not None:
        out.kind = "enum"
        out.options = pickers.options(picker, ctx.lang)
        if out.value and out.value not in {code for code, _ in out.options}:
            out.options.insert(0, (out.value, out.value))  # kept as it is: validation names it


def _build_array(out: Field, node: Mapping[str, Any], base: Mapping[str, Any], value: Any, ctx: Context) -> None:
    items, items_base = resolve(node.get("items", {}), base)
    items_list = list(value) if isinstance(value, list) else []
    if items.get("type") == "object":
        if set(items.get("properties", {})) >= FILE_KEYS:
            out.kind = "files"
        elif not items_list and node.get("minItems", 0) >= 1:
            items_list = [{}]  # a required list starts with one empty entry to fill in
        for index, item in enumerate(items_list):
            entry = _build(
                items,
                items_base,
                child(out.pointer, index),
                str(index),
                item,
                ctx,
                required=True,
                depth=out.depth + 1,
            )
            entry.label = f"{out.label} — {index + 1}"
            entry.required = False  # the entry exists; only its own required fields carry the mark
            out.children.append(entry)
    elif "enum" in items:
        out.kind = "choices"
        out.options = _options(items, ctx)
        out.value = [str(v) for v in items_list]
    elif ctx.pickers and items.get("format") in (pickers.COUNTRY, pickers.LANGUAGE):
        out.kind = "picks"
        out.picker = str(items["format"])
        out.options = pickers.options(out.picker, ctx.lang)
        out.value = [str(v) for v in items_list]
        known = {code for code, _ in out.options}
        out.options[:0] = [(v, v) for v in out.value if v not in known]
    else:
        out.kind = "lines"
        out.value = "\n".join(str(v) for v in items_list)
        out.options = [("integer", "integer")] if items.get("type") == "integer" else []


def _local_datetime(value: Any, timezone: str) -> str:
    """An RFC 3339 moment as the wall-clock value of an ``<input type=datetime-local>`` in ``timezone``."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%dT%H:%M")


# --- posted fields → payload --------------------------------------------------------------------------------
class Posted:
    """Read access to submitted form fields (a ``multi_items()`` list), independent of the web framework."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self._items = [(k, v) for k, v in items if isinstance(v, str)]

    def get(self, name: str) -> str | None:
        return next((v for k, v in self._items if k == name), None)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self._items if k == name]

    def count(self, pointer: str) -> int:
        raw = self.get(f"{pointer}#count") or "0"
        return min(int(raw), 1000) if raw.isdigit() else 0


def parse(form: str, posted: Posted, ctx: Context, *, keep: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The payload the posted fields describe. Empty inputs are absent values (drafts may be incomplete);
    text that is not a number stays text so that validation names the field. ``keep``: top-level values not
    edited by this form (e.g. uploaded files' descriptors) carried over as they are."""
    schema = forms.load_schema(form)
    payload = _parse(schema, schema, "", posted, ctx)
    result = payload if isinstance(payload, dict) else {}
    for key, value in (keep or {}).items():
        result.setdefault(key, value)
    return result


def _parse(node: Mapping[str, Any], base: Mapping[str, Any], pointer: str, posted: Posted, ctx: Context) -> Any:
    raw_node = node
    node, base = resolve(node, base)
    kind = _kind(node)
    if kind == "object":
        out = {}
        for name, sub in node.get("properties", {}).items():
            if name in SKIPPED:
                continue
            value = _parse(sub, base, child(pointer, name), posted, ctx)
            if value is not MISSING:
                out[name] = value
        return out if out or pointer == "" else MISSING
    if kind == "array":
        return _parse_array(node, base, pointer, posted, ctx)
    raw = (posted.get(pointer) or "").strip()
    if raw == "":
        return MISSING
    if kind == "text" and _picker(raw_node, node) == pickers.ICCS:
        return pickers.iccs_code(raw)  # "0101 — Homicidio intencional" → "0101"
    return _scalar(kind, raw, ctx)


def _scalar(kind: str, raw: str, ctx: Context) -> Any:
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in ("integer", "number"):
        try:
            if kind == "integer":
                return int(raw)
            number = float(raw.replace(",", "."))
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in raw and "," not in raw else number
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return raw
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(ctx.timezone))
        return moment.isoformat()
    return raw.replace("\r\n", "\n")


def _parse_array(node: Mapping[str, Any], base: Mapping[str, Any], pointer: str, posted: Posted, ctx: Context) -> Any:
    items, items_base = resolve(node.get("items", {}), base)
    if items.get("type") == "object":
        values = []
        for index in range(posted.count(pointer)):
            value = _parse(items, items_base, child(pointer, index), posted, ctx)
            values.append({} if value is MISSING else value)
        return values or MISSING
    if "enum" in items:
        allowed = [str(v) for v in items["enum"]]
        chosen = [v for v in posted.getlist(pointer) if v in allowed]
        return chosen or MISSING
    text = "\n".join(posted.getlist(pointer))  # one text area, or one select per entry (a picker)
    parts = (
        [p.strip() for p in text.replace(",", "\n").splitlines()]
        if items.get("type") == "integer"
        else [p.strip() for p in text.splitlines()]
    )
    values = [_scalar("integer", p, ctx) if items.get("type") == "integer" else p for p in parts if p]
    return values or MISSING


# --- repeatable entries: add / remove without JavaScript ----------------------------------------------------
def edit_list(payload: dict[str, Any], operation: str) -> dict[str, Any]:
    """Apply ``add:/persons`` (append an empty entry) or ``remove:/persons/1`` to a copy of ``payload``;
    anything else leaves it unchanged."""
    verb, _, pointer = operation.partition(":")
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    if verb not in ("add", "remove") or not tokens:
        return payload
    result = copy.deepcopy(payload)
    parent: Any = result
    path = tokens if verb == "add" else tokens[:-1]
    for token in path[:-1]:
        parent = _step(parent, token, create=verb == "add", leaf=False)
        if parent is None:
            return payload
    last = path[-1] if path else None
    if verb == "add":
        container = _step(parent, last, create=True, leaf=True) if last is not None else None
        if isinstance(container, list):
            container.append({})
        return result
    target = _step(parent, last, create=False, leaf=True) if last is not None else None
    index = tokens[-1]
    if isinstance(target, list) and index.isdigit() and int(index) < len(target):
        del target[int(index)]
    return result


def _step(node: Any, token: str, *, create: bool, leaf: bool) -> Any:
    if isinstance(node, list):
        return node[int(token)] if token.isdigit() and int(token) < len(node) else None
    if not isinstance(node, dict):
        return None
    if token not in node and create:
        node[token] = [] if leaf else {}
    return node.get(token)


def errors_by_pointer(errors: list[forms.FormError]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.pointer, []).append(error.message)
    return grouped


def summary(fields: list[Field], errors: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """``errors`` in the order their fields appear on the page, each message led by the groups it sits in
    ("Contact person › «E-mail» is not valid"), so that one of several alike fields is named unambiguously.
    A pointer with no field of its own (a missing member of an absent group) takes its nearest shown
    ancestor's place."""
    order: dict[str, int] = {}
    trail: dict[str, list[str]] = {}

    def visit(item: Field, groups: list[str]) -> None:
        # a group shown in parts (the editor's sections) is placed where its first part is
        order.setdefault(item.pointer, len(order))
        trail.setdefault(item.pointer, groups)
        # an array's entries are labelled "List — 2" already: the list's own label would be said twice
        inner = groups if item.kind in ("array", "files") else [*groups, item.label]
        for sub in item.children:
            visit(sub, inner)

    for top in fields:
        visit(top, [])

    def place(pointer: str) -> tuple[int, str, list[str]]:
        known = pointer
        while known and known not in order:
            known = known.rpartition("/")[0]
        if known not in order:
            return len(order), known, []
        groups = trail[known] if known == pointer else [*trail[known], _label_of(fields, known)]
        return order[known], known, groups

    items = []
    for index, (pointer, texts) in enumerate(errors.items()):
        position, known, groups = place(pointer)
        target = pointer if pointer in order else known  # the link goes to a field that is on the page
        for text in texts:
            items.append((position, index, target, " › ".join([*groups, text])))
    return [(pointer, text) for _, _, pointer, text in sorted(items, key=lambda item: (item[0], item[1]))]


def _label_of(fields: list[Field], pointer: str) -> str:
    return next((f.label for top in fields for f in top.walk() if f.pointer == pointer), "")
