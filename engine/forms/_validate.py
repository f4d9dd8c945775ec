"""Validation of payloads against the catalogue, with localized errors.

Two validators per schema ``$id`` are built once and cached: *complete* (the full schema, for every transition
out of draft and every message sent) and *draft* (presence and minimum-size rules switched off, so a half-
filled form can be saved while what is present still has the right type, format, code list value and pattern).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from engine.forms._catalog import FORMAT_CHECKER, SchemaCatalog, default_catalog
from engine.forms._errors import DOCUMENT, FORMAT_NAMES, MESSAGES, TYPE_NAMES, FormError
from engine.forms._fast import Check, Compiler, Unsupported
from engine.i18n import LANGUAGES, check_language, translate

# Keywords a draft may break: everything about presence and minimum sizes.
DRAFT_SKIPPED = frozenset({"required", "dependentRequired", "minItems", "minLength", "minProperties"})

_CODES = {
    "type": "type",
    "required": "required",
    "dependentRequired": "required",
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


_LANGS = {code: code for code in LANGUAGES}


def _ignore(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    return iter(())


DraftValidator = validators.extend(Draft202012Validator, {k: _ignore for k in DRAFT_SKIPPED})


@dataclass(frozen=True)
class CompiledForm:
    schema_id: str
    errors_validator: Any  # a jsonschema validator: the authoritative list of errors
    fast: Check | None  # the compiled predicate, or None when the schema uses an unsupported keyword


class Validation:
    """Validators for one catalogue, compiled on first use and kept for the life of the process."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self.catalog = catalog
        self._compiled: dict[tuple[str, bool], CompiledForm] = {}

    def compiled(self, form_or_id: str, complete: bool) -> CompiledForm:
        # Keyed by what the caller passed as well as by $id, so the hot path is one dict lookup.
        found = self._compiled.get((form_or_id, complete))
        if found is not None:
            return found
        sid = self.catalog.schema_id(form_or_id)
        found = self._compiled.get((sid, complete))
        if found is None:
            schema = self.catalog.schemas[sid]
            cls = Draft202012Validator if complete else DraftValidator
            errors_validator = cls(schema, registry=self.catalog.registry, format_checker=FORMAT_CHECKER)
            try:
                skip = frozenset() if complete else DRAFT_SKIPPED
                fast: Check | None = Compiler(FORMAT_CHECKER, skip).compile(
                    schema, self.catalog.registry.resolver(base_uri=sid)
                )
            except Unsupported:
                fast = None
            found = self._compiled[(sid, complete)] = CompiledForm(sid, errors_validator, fast)
        self._compiled[(form_or_id, complete)] = found
        return found

    def validate(
        self, form_or_id: str, payload: object, *, complete: bool = True, lang: str = "en"
    ) -> list[FormError]:
        lang = _LANGS.get(lang) or check_language(lang)
        form = self.compiled(form_or_id, complete)
        if form.fast is not None and form.fast(payload):
            return []
        try:
            raw = list(form.errors_validator.iter_errors(payload))
        except (RecursionError, OverflowError, ValueError, TypeError):
            # Not a JSON value (e.g. an infinite float or a cycle); parse_json never produces one.
            return [FormError("", "invalid", _message("invalid", lang, field=translate(lang, DOCUMENT)))]
        return self._convert(form.schema_id, raw, lang)

    # --- errors ---------------------------------------------------------------------------------------------
    def _convert(self, sid: str, raw: Iterable[ValidationError], lang: str) -> list[FormError]:
        out: dict[tuple[str, str], FormError] = {}
        for error in raw:
            path = tuple(error.absolute_path)
            code = _CODES.get(str(error.validator), "invalid")
            if code == "required":
                # One jsonschema error per missing name, but without the name as data: recompute it.
                wanted = error.validator_value
                names = (
                    wanted
                    if isinstance(wanted, list)
                    else [n for k, ns in wanted.items() if k in error.instance for n in ns]
                )
                targets = [(path + (n,), {}) for n in names if n not in error.instance]
            elif code == "unknown_field":
                known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
                targets = [(path + (k,), {}) for k in error.instance if k not in known]
            else:
                targets = [(path, _params(code, error, lang))]
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
        localized = schema.get("x-title", {}).get(lang)
        if localized:
            return str(localized)
    title = schema.get("title")
    return str(title) if title else None


def _params(code: str, error: ValidationError, lang: str) -> dict[str, Any]:
    value = error.validator_value
    if code == "type":
        types = value if isinstance(value, list) else [value]
        return {"expected": " / ".join(translate(lang, TYPE_NAMES.get(t, t)) for t in types)}
    if code == "enum":
        allowed = value if isinstance(value, list) else [value]
        shown = ", ".join(str(a) for a in allowed[:15]) + (", …" if len(allowed) > 15 else "")
        return {"allowed": shown}
    if code == "format":
        return {"format": translate(lang, FORMAT_NAMES.get(str(value), str(value)))}
    if code in {"max_length", "min_items", "max_items", "minimum", "maximum", "min_length"}:
        return {"limit": value}
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
