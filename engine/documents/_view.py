"""From a schema and a payload to what a document shows: sections, labelled fields, tables, cards and entries.

Pure: no I/O, no HTML. Every label and every value that depends on the language is produced in the document
language and, for a bilingual document, in the second language too (:class:`Bi`). Sections follow the order of
the schema's properties, so a new schema version needs no template change to show its new fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine import formatting
from engine.documents._labels import NO, YES, enum_msgid
from engine.i18n import localized, translate

# Strings up to this length sit in a field grid; longer ones (text, long_text) get a headed section of their
# own.
_SHORT_TEXT = 300
# Arrays of objects with at most this many columns become a table; richer items (measures) become cards, and
# persons one paragraph each (entries).
_MAX_TABLE_COLUMNS = 5
# Codes, hashes and account numbers: monospaced and allowed to break anywhere (they have no spaces).
_MONO = frozenset({"sha256", "code", "iccs_code", "number", "accounts"})


@dataclass(frozen=True)
class Bi:
    """A text in the document language and, when different, in the second language of a bilingual document."""

    main: str
    alt: str | None = None

    def __str__(self) -> str:
        return self.main if self.alt is None else f"{self.main} / {self.alt}"


@dataclass(frozen=True)
class Field:
    label: Bi
    value: Bi
    mono: bool = False  # codes and hashes: monospaced, may break anywhere


@dataclass(frozen=True)
class Table:
    columns: list[Bi]
    rows: list[list[Field]]


@dataclass(frozen=True)
class Card:
    title: Bi
    fields: list[Field]


@dataclass(frozen=True)
class Entry:
    """One item of a long list as a paragraph: its heading, then its "label: value" fields on the same lines."""

    title: Bi
    text: Bi


@dataclass
class Section:
    key: str
    title: Bi | None
    fields: list[Field] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    items: list[Bi] = field(default_factory=list)
    table: Table | None = None
    cards: list[Card] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


class Languages:
    """The document language, an optional second one, and the timezone date-times are shown in."""

    def __init__(self, main: str, alt: str | None = None, timezone: str = "UTC") -> None:
        self.main, self.alt, self.timezone = main, (alt if alt and alt != main else None), timezone

    def each(self, produce: Callable[[str], str]) -> Bi:
        main = produce(self.main)
        alt = produce(self.alt) if self.alt else None
        return Bi(main, alt if alt != main else None)

    def gettext(self, msgid: str) -> Bi:
        return self.each(lambda lang: translate(lang, msgid))

    def title(self, node: Mapping[str, Any], fallback: str) -> Bi:
        """A schema node's label: ``title`` in English, ``x-title[lang]`` otherwise."""
        english = str(node.get("title", fallback))
        titles = node.get("x-title") or {}
        return self.each(lambda lang: english if lang == "en" else str(localized(titles, lang, english)))


# --- schema navigation --------------------------------------------------------------------------------------
SchemaLoader = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class Node:
    """A schema node with its ``$ref`` chain and ``allOf`` merged; ``kind``: the last ``$defs`` name seen."""

    schema: Mapping[str, Any]
    kind: str | None
    base: str  # $id of the document the node came from (local refs resolve against it)


def resolve(loader: SchemaLoader, node: Mapping[str, Any], base: str, kind: str | None = None) -> Node:
    merged: dict[str, Any] = {}
    for part in node.get("allOf", []):
        sub = resolve(loader, part, base, kind)
        kind = sub.kind or kind
        merged.update(sub.schema)
        # The merged properties came from the part: their local refs resolve against its document.
        base = sub.base
    if "$ref" in node:
        ref = str(node["$ref"])
        doc_id, _, pointer = ref.partition("#")
        doc_id = doc_id or base
        target: Any = loader(doc_id)
        for token in filter(None, pointer.split("/")):
            target = target[token]
        kind = pointer.rsplit("/", 1)[-1] or kind
        sub = resolve(loader, target, doc_id, kind)
        merged.update(sub.schema)
        base, kind = sub.base, sub.kind
    merged.update({k: v for k, v in node.items() if k not in ("$ref", "allOf")})
    return Node(merged, kind, base)


# --- values -------------------------------------------------------------------------------------------------
class Formatter:
    def __init__(self, loader: SchemaLoader, langs: Languages, payload: Mapping[str, Any]) -> None:
        self.loader, self.langs, self.payload = loader, langs, payload
        # Resolved nodes by (schema node, base): a 60-person list resolves each person field's $ref chain once,
        # not once per person. The node itself is kept beside its Node so that its id is not reused.
        self._resolved: dict[tuple[int, str], tuple[Mapping[str, Any], Node]] = {}

    def child(self, parent: Node, name: str) -> Node:
        return self._resolve(parent.schema.get("properties", {}).get(name, {}), parent.base)

    def items(self, node: Node) -> Node:
        return self._resolve(node.schema.get("items", {}), node.base)

    def _resolve(self, raw: Mapping[str, Any], base: str) -> Node:
        key = (id(raw), base)
        hit = self._resolved.get(key)
        if hit is None or hit[0] is not raw:
            hit = self._resolved[key] = (raw, resolve(self.loader, raw, base))
        return hit[1]

    def scalar(self, node: Node, value: Any, name: str = "") -> Bi:
        schema, langs = node.schema, self.langs
        if isinstance(value, bool):
            return langs.gettext(YES if value else NO)
        if isinstance(value, str):
            fmt = schema.get("format")
            if "enum" in schema and (label := enum_label(schema, value, langs)) is not None:
                return label
            if fmt == "date":
                return langs.each(lambda lang: formatting.format_date(value, lang))
            if fmt == "date-time":
                return langs.each(lambda lang: formatting.format_datetime(value, lang, langs.timezone))
            if fmt == "iso3166-alpha2" or node.kind == "country":
                return langs.each(lambda lang: formatting.country_name(value, lang))
            if fmt == "iso639-1" or node.kind in ("language_code", "document_language"):
                return langs.each(lambda lang: formatting.language_name(value, lang))
            return Bi(value)
        if isinstance(value, int | float) and name == "size":
            # The label says "size in bytes": give the exact count, and a readable size beside it.
            return langs.each(lambda lang: f"{formatting.format_number(int(value), lang)} "
                                           f"({formatting.format_size(int(value), lang)})")
        if isinstance(value, int | float):
            return langs.each(lambda lang: formatting.format_number(value, lang))
        return Bi(str(value))

    def value(self, node: Node, value: Any, name: str = "") -> Bi:
        """Any value as one (possibly multi-line) text: objects inline, lists one entry per line."""
        if isinstance(value, Mapping):
            return self.inline(node, value)
        if isinstance(value, list):
            if name == "persons" and all(isinstance(v, int) for v in value):
                return Bi("\n".join(self.person_name(i) for i in value))
            parts = [self.value(self.items(node), v) for v in value]
            separator = "\n" if any(isinstance(v, Mapping) for v in value) else ", "
            return self.join(parts, separator)
        return self.scalar(node, value, name)

    def inline(self, node: Node, value: Mapping[str, Any]) -> Bi:
        if node.kind == "address" or {"city", "country"} <= value.keys():
            street = ", ".join(str(value[k]) for k in ("street",) if k in value)
            city = " ".join(str(value[k]) for k in ("postal_code", "city") if k in value)
            region = str(value.get("region", ""))
            return self.langs.each(
                lambda lang: ", ".join(
                    p
                    for p in (street, city, region, formatting.country_name(str(value["country"]), lang))
                    if p
                )
            )
        if node.kind == "currency_amount" or {"value", "currency"} <= value.keys():
            return self.langs.each(
                lambda lang: formatting.format_currency(value["value"], value["currency"], lang)
            )
        if {"from"} <= value.keys() and node.schema.get("properties", {}).keys() <= {"from", "to"}:
            start = self.value(self.child(node, "from"), value["from"])
            end = self.value(self.child(node, "to"), value["to"]) if "to" in value else Bi("…")
            return self.join([start, end], " – ")
        parts = []
        # An object with a currency (an asset's amounts frozen, seized, …): its amounts are money in it.
        currency = value.get("currency") if isinstance(value.get("currency"), str) else None
        for name, sub in value.items():
            child = self.child(node, name)
            label, text = self.langs.title(child.schema, name), self.value(child, sub, name)
            if currency and isinstance(sub, int | float) and not isinstance(sub, bool):
                text = self.langs.each(lambda lang, amount=sub: formatting.format_currency(amount, currency, lang))
            parts.append(_labelled(self, label, text))
        return self.join(parts, formatting.field_separator)

    def join(self, parts: Sequence[Bi], separator: str | Callable[[str], str]) -> Bi:
        """``separator``: a string, or per language (``formatting.field_separator``: French spaces its ";")."""
        def between(lang: str) -> str:
            return separator if isinstance(separator, str) else separator(lang)

        main = between(self.langs.main).join(p.main for p in parts)
        alt_lang = self.langs.alt or self.langs.main
        alt = between(alt_lang).join(p.alt or p.main for p in parts) if any(p.alt for p in parts) else None
        return Bi(main, alt)

    def person_name(self, index: int) -> str:
        return person_at(self.payload, index)

    def fields(self, node: Node, value: Mapping[str, Any], skip: Sequence[str] = ()) -> list[Field]:
        out = []
        for name in _ordered(node, value):
            if name in skip or name == "$schema":
                continue
            child = self.child(node, name)
            out.append(
                Field(
                    self.langs.title(child.schema, name),
                    self.value(child, value[name], name),
                    mono=name in _MONO,
                )
            )
        return out


def enum_label(schema: Mapping[str, Any], value: str, langs: Languages) -> Bi | None:
    """The name of a coded value: the schema's own ``x-enum-titles`` (values added by a schema version), else the
    gettext name of the list the other values belong to."""
    titles = (schema.get("x-enum-titles") or {}).get(value)
    if titles:
        return langs.each(lambda lang: str(localized(titles, lang)))
    named = [v for v in schema.get("enum", []) if v not in (schema.get("x-enum-titles") or {})]
    msgid = enum_msgid(named, value) if value in named else None
    return langs.gettext(msgid) if msgid else None


def person_at(payload: Mapping[str, Any], index: int) -> str:
    """How a document (and the web's read-only pages) names the person at ``index`` of the request's list:
    "1. Surname, Given names", or "#8" for a position no person holds."""
    persons = payload.get("persons")
    if not isinstance(persons, list) or not 0 <= index < len(persons) or not isinstance(persons[index], Mapping):
        return f"#{index + 1}"
    return f"{index + 1}. {display_name(persons[index])}"


def display_name(person: Mapping[str, Any]) -> str:
    if person.get("company_name"):
        return str(person["company_name"])
    names = [str(person[k]) for k in ("surname", "given_names") if person.get(k)]
    return ", ".join(names) or "—"


def _ordered(node: Node, value: Mapping[str, Any]) -> list[str]:
    """Schema order first (the order the form is read in), then anything the schema does not name."""
    known = [name for name in node.schema.get("properties", {}) if name in value]
    return known + [name for name in value if name not in known]


# --- sections -----------------------------------------------------------------------------------------------
def build_sections(
    loader: SchemaLoader, schema_id: str, payload: Mapping[str, Any], langs: Languages
) -> list[Section]:
    """The sections of a document for ``payload`` under the schema ``schema_id``, in schema order."""
    root = resolve(loader, loader(schema_id), schema_id)
    fmt = Formatter(loader, langs, payload)
    sections: list[Section] = []
    loose: Section | None = None  # consecutive short scalars share one untitled field grid
    for name in _ordered(root, payload):
        if name == "$schema":
            continue
        node, value = fmt.child(root, name), payload[name]
        title = langs.title(node.schema, name)
        if _is_short_scalar(node, value):
            if loose is None:
                loose = Section(key="particulars", title=None)
                sections.append(loose)
            loose.fields.append(Field(title, fmt.value(node, value, name)))
            continue
        loose = None
        sections.append(_section(fmt, name, node, value, title))
    return sections


def _is_short_scalar(node: Node, value: Any) -> bool:
    if isinstance(value, Mapping) or isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
        return False
    if isinstance(value, list):  # grounds, questions, answers: a list reads better than a comma-joined line
        return False
    return not (isinstance(value, str) and int(node.schema.get("maxLength", 0)) > _SHORT_TEXT)


def _section(fmt: Formatter, name: str, node: Node, value: Any, title: Bi) -> Section:
    section = Section(key=name, title=title)
    if isinstance(value, str):
        section.paragraphs = _paragraphs(value)
    elif isinstance(value, Mapping):
        section.fields = fmt.fields(node, value)
    elif name == "persons" and isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        section.entries = _person_entries(fmt, fmt.items(node), value)
    elif isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        items = fmt.items(node)
        columns = [c for c in items.schema.get("properties", {}) if any(c in v for v in value)]
        if len(columns) <= _MAX_TABLE_COLUMNS:
            labels = [fmt.langs.title(fmt.child(items, c).schema, c) for c in columns]
            rows = [
                [
                    Field(
                        labels[i],
                        fmt.value(fmt.child(items, c), v[c], c) if c in v else Bi(""),
                        mono=c in _MONO,
                    )
                    for i, c in enumerate(columns)
                ]
                for v in value
            ]
            section.table = Table(columns=labels, rows=rows)
        else:
            section.cards = [_card(fmt, items, name, i, v) for i, v in enumerate(value)]
    elif isinstance(value, list):
        section.items = [fmt.value(fmt.items(node), v) for v in value]
    return section


# Persons as one paragraph each, the fields run on at full width ("1. Suspect — Surname, Given names. Date of birth:
# …; Nationalities: …"): a 60-person request stays within a few pages, and each value keeps its form's label. A
# grid of narrow cells held the same text on three times as many short lines, and WeasyPrint's cost follows lines
# and boxes (docs/performance.md, "PDF of a 60-person request").
_PERSON_ORDER = ("other_names", "aliases", "sex", "legal_form", "trading_name", "representative", "birth_date",
                 "birth_place", "nationalities", "identity_documents", "identity_number", "registration_number",
                 "addresses", "registered_seat", "languages", "interpreter_needed", "description")
_HEADING_FIELDS = frozenset({"role", "surname", "given_names", "company_name"})


def _person_entries(fmt: Formatter, items: Node, persons: Sequence[Mapping[str, Any]]) -> list[Entry]:
    known = items.schema.get("properties", {})
    order = [k for k in _PERSON_ORDER if k in known] + [k for k in known if k not in _PERSON_ORDER]
    entries = []
    for index, person in enumerate(persons):
        parts = []
        for key in order:
            if key in _HEADING_FIELDS or key not in person:
                continue
            child = fmt.child(items, key)
            value = person[key]
            if key == "identity_documents" and isinstance(value, list):
                text = fmt.join([_document_line(fmt, fmt.items(child), d) for d in value], " / ")
            else:
                # Lists print one entry per line elsewhere; in a running paragraph they take a separator instead.
                text = fmt.value(child, value, key)
                if isinstance(value, list):
                    between = " / " if any(isinstance(v, Mapping) for v in value) else ", "
                    text = Bi(text.main.replace("\n", between), text.alt.replace("\n", between) if text.alt else None)
            parts.append(_labelled(fmt, fmt.langs.title(child.schema, key), text))
        entries.append(Entry(title=_item_title(fmt, items, "persons", index, person),
                             text=fmt.join(parts, formatting.field_separator)))
    return entries


def _labelled(fmt: Formatter, label: Bi, text: Bi) -> Bi:
    """"Label: value" in each language of the document."""
    langs = fmt.langs
    return Bi(formatting.with_colon(label.main, langs.main) + " " + text.main,
              (formatting.with_colon(label.alt or label.main, langs.alt) + " " + (text.alt or text.main))
              if langs.alt else None)


def _document_line(fmt: Formatter, node: Node, document: Any) -> Bi:
    """"Passport PA123 (Colombia; Expiry date: 1 May 2030)": an identity document in a few words."""
    if not isinstance(document, Mapping):
        return Bi(str(document))
    kind = fmt.value(fmt.child(node, "type"), document["type"]) if "type" in document else Bi("")
    country = (fmt.value(fmt.child(node, "issuing_country"), document["issuing_country"])
               if "issuing_country" in document else None)
    number = str(document.get("number", ""))
    expiry = fmt.child(node, "expiry_date")
    label = fmt.langs.title(expiry.schema, "expiry_date")
    until = fmt.value(expiry, document["expiry_date"]) if "expiry_date" in document else None

    def one(lang: str) -> str:
        details = [_pick(country, lang, fmt.langs)] if country else []
        if until is not None:
            expires = formatting.with_colon(_pick(label, lang, fmt.langs), lang)
            details.append(f"{expires} {_pick(until, lang, fmt.langs)}")
        text = f"{_pick(kind, lang, fmt.langs)} {number}"
        return text + (f" ({formatting.field_separator(lang).join(details)})" if details else "")

    return fmt.langs.each(one)


def _pick(text: Bi, lang: str, langs: Languages) -> str:
    return text.alt if lang == langs.alt and text.alt else text.main


def _card(fmt: Formatter, items: Node, name: str, index: int, value: Mapping[str, Any]) -> Card:
    return Card(title=_item_title(fmt, items, name, index, value), fields=fmt.fields(items, value, skip=("type",)))


def _item_title(fmt: Formatter, items: Node, name: str, index: int, value: Mapping[str, Any]) -> Bi:
    """"1. Suspect — Surname, Given names" for a person, "2. Search and seizure" for a measure."""
    heading_field = "role" if name == "persons" else "type"
    heading = (
        fmt.value(fmt.child(items, heading_field), value[heading_field]) if heading_field in value else Bi("")
    )
    who = display_name(value) if name == "persons" else ""

    def title(text: str) -> str:
        named = f"{text} — {who}" if text and who else text or who
        return f"{index + 1}. {named}" if named else f"{index + 1}."

    return Bi(title(heading.main), title(heading.alt) if heading.alt else None)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
