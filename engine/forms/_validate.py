"""Validation of payloads against the catalogue, with localized errors.

One jsonschema-rs validator per schema ``$id`` and mode is built on first use and kept (see
:mod:`engine.forms._compile`): *complete* (the full schema, for every transition out of draft and every message
sent) and *draft* (presence and minimum-size rules switched off). A valid payload costs one call into Rust; an
invalid one a second call that lists every error, each turned into a localized :class:`FormError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.forms._catalog import SchemaCatalog, default_catalog
from engine.forms._compile import build, format_of_pattern
from engine.forms._errors import DOCUMENT, FORMAT_NAMES, MESSAGES, TYPE_NAMES, FormError
from engine.i18n import LANGUAGES, check_language, translate
from engine.i18n import localized as i18n_localized

# jsonschema-rs error kind (the keyword) -> our error code; anything else is "invalid".
_CODES = {
    "type": "type",
    "required": "required",
    "enum": "enum",
    "const": "enum",
    "format": "format",
    "pattern": "pattern",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_items",
    "maxItems": "max_items",
    "uniqueItems": "unique_items",
    "minimum": "minimum",
    "maximum": "maximum",
    "additionalProperties": "unknown_field",
}
# Not JSON at all (a non-string key, a set, an object): jsonschema-rs refuses to look at it.
_NOT_JSON = (ValueError, TypeError, OverflowError, RecursionError)

_LANGS = {code: code for code in LANGUAGES} | {"pt": "pt_PT"}


@dataclass(frozen=True)
class CompiledForm:
    schema_id: str
    validator: Any  # a jsonschema_rs validator: is_valid() for the yes/no, iter_errors() for the list

    def is_valid(self, payload: object) -> bool:
        try:
            return bool(self.validator.is_valid(payload))
        except _NOT_JSON:
            return False


class Validation:
    """Validators for one catalogue, compiled on first use and kept for the life of the process."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self.catalog = catalog
        self._compiled: dict[tuple[str, bool], CompiledForm] = {}
        self._factories: dict[bool, Callable[[str], Any]] = {}
        self._format_of_pattern = format_of_pattern()

    def compiled(self, form_or_id: str, complete: bool) -> CompiledForm:
        # Keyed by what the caller passed as well as by $id, so the hot path is one dict lookup.
        found = self._compiled.get((form_or_id, complete))
        if found is not None:
            return found
        sid = self.catalog.schema_id(form_or_id)
        found = self._compiled.get((sid, complete))
        if found is None:
            if complete not in self._factories:
                self._factories[complete] = build(self.catalog.schemas, complete=complete)
            found = self._compiled[(sid, complete)] = CompiledForm(sid, self._factories[complete](sid))
        self._compiled[(form_or_id, complete)] = found
        return found

    def validate(
        self, form_or_id: str, payload: object, *, complete: bool = True, lang: str = "en"
    ) -> list[FormError]:
        lang = _LANGS.get(lang) or check_language(lang)
        form = self.compiled(form_or_id, complete)
        try:
            if form.validator.is_valid(payload):
                return []
            raw = list(form.validator.iter_errors(payload))
        except _NOT_JSON:
            # Not a JSON value (e.g. a set or a non-string key); parse_json never produces one.
            return [FormError("", "invalid", _message("invalid", lang, field=translate(lang, DOCUMENT)))]
        return self._convert(form.schema_id, raw, lang)

    # --- errors ---------------------------------------------------------------------------------------------
    def _convert(self, sid: str, raw: Iterable[Any], lang: str) -> list[FormError]:
        out: dict[tuple[str, str], FormError] = {}
        for error in raw:
            path = tuple(error.instance_path)
            keyword, data = error.kind.name, error.kind.as_dict()
            if keyword == "pattern" and data["pattern"] in self._format_of_pattern:
                # One of our formats, checked as a pattern (engine.forms._compile): report it as the format.
                keyword, data = "format", {"format": self._format_of_pattern[data["pattern"]]}
            code = _CODES.get(keyword, "invalid")
            if code == "required":
                targets = [(path + (data["property"],), {})]
            elif code == "unknown_field":
                targets = [(path + (name,), {}) for name in data["unexpected"]]
            else:
                targets = [(path, _params(code, data, lang))]
            for target, params in targets:
                pointer = to_pointer(target)
                if (pointer, code) in out:
                    continue
                field = self.label(sid, target, lang, known_field=code != "unknown_field")
                out[(pointer, code)] = FormError(pointer, code, _message(code, lang, field=field, **params))
        # A wrong code such as "co" breaks both the pattern and the format: the format message says more.
        for pointer, code in list(out):
            if code == "pattern" and (pointer, "format") in out:
                del out[(pointer, code)]
        return sorted(out.values(), key=lambda e: (e.pointer, e.code))

    def label(self, sid: str, path: tuple[Any, ...], lang: str, *, known_field: bool = True) -> str:
        """The field's title in ``lang`` from the schema; item positions are shown 1-based."""
        if not path:
            return _title(self.catalog.schemas[sid], lang) or translate(lang, DOCUMENT)
        last = path[-1]
        if not known_field:
            return str(last)
        generic = tuple("*" if isinstance(p, int) else str(p) for p in path)
        if isinstance(last, int):
            parent = _label_for(self.catalog, sid, generic[:-1], lang) or translate(lang, DOCUMENT)
            return f"{parent} ({last + 1})"
        return _label_for(self.catalog, sid, generic, lang) or str(last)


@lru_cache(maxsize=4096)
def _label_for(catalog: SchemaCatalog, sid: str, path: tuple[str, ...], lang: str) -> str | None:
    resolver = catalog.registry.resolver(base_uri=sid)
    nodes: list[tuple[Any, Any]] = [(catalog.schemas[sid], resolver)]
    title: str | None = None
    for step in path:
        found: list[tuple[Any, Any]] = []
        for schema, res in _expand(nodes):
            sub = schema.get("items") if step == "*" else schema.get("properties", {}).get(step)
            if isinstance(sub, dict):
                found.append((sub, res))
        if not found:
            return None
        # The title at the point of use wins ("Requested authority"), then the referenced definition's.
        title = next((t for s, _ in found if (t := _title(s, lang))), None)
        if title is None:
            title = next((t for s, _ in _expand(found) if (t := _title(s, lang))), None)
        nodes = found
    return title


def _expand(nodes: list[tuple[Any, Any]]) -> list[tuple[dict[str, Any], Any]]:
    """The schemas plus what they pull in by $ref, allOf and if/then/else (where properties can hide)."""
    out: list[tuple[dict[str, Any], Any]] = []
    stack = list(nodes)
    while stack and len(out) < 64:
        schema, res = stack.pop()
        if not isinstance(schema, dict):
            continue
        out.append((schema, res))
        if "$ref" in schema:
            resolved = res.lookup(schema["$ref"])
            stack.append((resolved.contents, resolved.resolver))
        stack.extend((s, res) for s in schema.get("allOf", []))
        stack.extend((schema[k], res) for k in ("then", "else") if k in schema)
    return out


def _title(schema: dict[str, Any], lang: str) -> str | None:
    if lang != "en":
        localized = i18n_localized(schema.get("x-title", {}), lang, "") or None
        if localized:
            return str(localized)
    title = schema.get("title")
    return str(title) if title else None


def _params(code: str, data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The message's placeholders from what jsonschema-rs says about the error."""
    if code == "type":
        return {"expected": " / ".join(translate(lang, TYPE_NAMES.get(t, t)) for t in data["types"])}
    if code == "enum":
        allowed = data["options"] if "options" in data else [data["expected_value"]]
        shown = ", ".join(str(a) for a in allowed[:15]) + (", …" if len(allowed) > 15 else "")
        return {"allowed": shown}
    if code == "format":
        return {"format": translate(lang, FORMAT_NAMES.get(data["format"], data["format"]))}
    if code in {"max_length", "min_items", "max_items", "minimum", "maximum", "min_length"}:
        return {"limit": data["limit"]}
    return {}


def _message(code: str, lang: str, **params: Any) -> str:
    if code == "min_items" and params.get("limit") == 1:
        code = "min_items_one"
    return translate(lang, MESSAGES[code]).format(**params)


def to_pointer(path: Iterable[Any]) -> str:
    """RFC 6901: ``~`` → ``~0`` and ``/`` → ``~1`` in each token."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@lru_cache(maxsize=1)
def default_validation() -> Validation:
    return Validation(default_catalog())
