"""A document laid out as its legal instrument's form: the sections of an instrument profile (``forms/profiles.json``)
filled from a payload.

Pure, like :mod:`engine.documents._view`: each section of the profile (EIO Annex A "A"-"L" with "H1"-"H7", Annex B
"A"-"E", or the numbered items of a UNTOC Art. 18(15) request) becomes a :class:`FormSection` whose items are
numbered. A coded field (a list of options, or yes/no) becomes a :class:`Checkboxes` grid that shows every option,
ticked or not, as the printed form does; any other field becomes a block of the ordinary view (fields, paragraphs,
tables). A section none of whose fields is filled says "not applicable".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.documents._labels import NO, YES
from engine.documents._view import (
    Bi,
    Field,
    Formatter,
    Languages,
    Node,
    SchemaLoader,
    Section,
    _section,
    enum_label,
    resolve,
)
from engine.i18n import localized

_MISSING = object()


@dataclass(frozen=True)
class Checkboxes:
    label: Bi
    options: list[tuple[Bi, bool]]  # every option of the list, ticked or not


@dataclass
class FormSection:
    key: str  # "A", "H", "1", …
    title: Bi
    items: list[Checkboxes | Section] = field(default_factory=list)
    subsections: list[FormSection] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.items and all(s.empty for s in self.subsections)


@dataclass
class FormView:
    front: list[Field]
    sections: list[FormSection]


def build_form(
    loader: SchemaLoader, schema_id: str, payload: Mapping[str, Any], langs: Languages,
    layout: Any,  # engine.forms.DocumentLayout
    *, every_option: bool = True,
) -> FormView:
    """``every_option``: show a coded field's checkboxes even when nothing is ticked (the printed EIO form does;
    a numbered treaty request shows only the lists that were filled)."""
    root = resolve(loader, loader(schema_id), schema_id)
    fmt = Formatter(loader, langs, payload)
    front = []
    for pointer in layout.front:
        node, value = _locate(fmt, root, payload, pointer)
        if value is not _MISSING and node is not None:
            front.append(Field(langs.title(node.schema, pointer), _flat(fmt, node, value)))
    sections = []
    for spec in layout.sections:
        title = langs.each(lambda lang, t=spec["title"]: str(localized(t, lang)))
        section = FormSection(str(spec["key"]), title)
        if spec.get("subsections"):
            for pointer in spec["pointers"]:
                node, value = _locate(fmt, root, payload, pointer)
                assert node is not None, pointer
                sub = FormSection(str(node.schema.get("title", ""))[:2], langs.title(node.schema, pointer))
                if isinstance(value, Mapping) and value:
                    sub.items = [_item(fmt, node.schema.get("properties", {}).get(k) and fmt.child(node, k), k, v)
                                 for k, v in _in_order(node, value)]
                section.subsections.append(sub)
        else:
            section.items = _items(fmt, root, payload, spec["pointers"], every_option,
                                   spec.get("options", {}), spec.get("option_titles", {}))
        sections.append(section)
    return FormView(front, sections)


def _items(fmt: Formatter, root: Node, payload: Mapping[str, Any], pointers: Sequence[str],
           every_option: bool, options: Mapping[str, Sequence[str]],
           option_titles: Mapping[str, Mapping[str, Mapping[str, str]]]) -> list[Any]:
    located = [(p, *_locate(fmt, root, payload, p)) for p in pointers]
    if all(value is _MISSING for _, _, value in located):
        return []  # nothing filled: the whole section is "not applicable", grids included
    items: list[Any] = []
    for pointer, node, value in located:
        if node is None:
            continue
        if _is_coded(node):
            if value is not _MISSING or every_option:
                items.append(_checkboxes(fmt, node, [] if value is _MISSING else value, pointer,
                                         options.get(pointer), option_titles.get(pointer, {})))
        elif value is not _MISSING:
            item = _item(fmt, node, pointer.rsplit("/", 1)[-1], value)
            parent = _parent_title(fmt, root, pointer)
            if isinstance(item, Section) and parent is not None and item.title is None and len(item.fields) == 1:
                # "/requesting_authority/country" reads "Requesting authority — Country", not just "Country".
                only = item.fields[0]
                item.fields = [Field(fmt.join([parent, only.label], " — "), only.value, only.mono)]
            items.append(item)
    return items


def _item(fmt: Formatter, node: Node | None, name: str, value: Any) -> Checkboxes | Section:
    if node is None:
        return Section(key=name, title=Bi(name), fields=[Field(Bi(name), Bi(str(value)))])
    if _is_coded(node):
        return _checkboxes(fmt, node, value, name)
    title = fmt.langs.title(node.schema, name)
    if isinstance(value, Mapping | list) or (isinstance(value, str) and int(node.schema.get("maxLength", 0)) > 300):
        return _section(fmt, name, node, value, title)
    return Section(key=name, title=None, fields=[Field(title, fmt.value(node, value, name))])


def _parent_title(fmt: Formatter, root: Node, pointer: str) -> Bi | None:
    tokens = [t for t in pointer.split("/") if t]
    if len(tokens) < 2 or "*" in tokens:
        return None
    parent, _ = _locate(fmt, root, {}, "/" + "/".join(tokens[:-1]))
    return fmt.langs.title(parent.schema, tokens[-2]) if parent is not None else None


def _is_coded(node: Node) -> bool:
    schema = node.schema
    if "enum" in schema or schema.get("type") == "boolean":
        return True
    items = schema.get("items")
    return schema.get("type") == "array" and isinstance(items, Mapping) and "enum" in items


def _checkboxes(
    fmt: Formatter, node: Node, value: Any, name: str,
    shown: Sequence[str] | None = None, titles: Mapping[str, Mapping[str, str]] | None = None,
) -> Checkboxes:
    """``shown``: the options the instrument's form prints, in its order (a profile's ``options``, e.g. Annex A
    section C); a chosen value outside them is still shown, ticked, after them. Default: the schema's list.
    ``titles``: the instrument's own wording of some options (a profile's ``option_titles``), per language."""
    langs, schema = fmt.langs, node.schema
    chosen = set(value) if isinstance(value, list) else {value}
    if schema.get("type") == "boolean":
        options = [(langs.gettext(YES), True in chosen), (langs.gettext(NO), False in chosen)]
    else:
        enum_schema = schema if "enum" in schema else resolve(fmt.loader, schema["items"], node.base).schema
        codes = list(enum_schema["enum"])
        if shown is not None:
            codes = [v for v in shown if v in codes] + [v for v in codes if v in chosen and v not in shown]
        titles = titles or {}
        options = [(_own_title(langs, titles[v]) if v in titles else enum_label(enum_schema, v, langs) or Bi(v),
                    v in chosen) for v in codes]
    return Checkboxes(langs.title(schema, name), options)


def _own_title(langs: Languages, title: Mapping[str, str]) -> Bi:
    return langs.each(lambda lang: str(title.get(lang) or title["en"]))


def _locate(fmt: Formatter, root: Node, payload: Any, pointer: str) -> tuple[Node | None, Any]:
    """The schema node at ``pointer`` and the payload's value there; ``*`` collects a field over every item."""
    node: Node | None = root
    values: list[Any] = [payload]
    spread = False
    for token in filter(None, pointer.split("/")):
        if node is None:
            return None, _MISSING
        if token == "*":
            node = fmt.items(node)
            values = [v for vs in values if isinstance(vs, list) for v in vs]
            spread = True
        else:
            if token not in node.schema.get("properties", {}):
                return None, _MISSING
            node = fmt.child(node, token)
            values = [v[token] for v in values if isinstance(v, Mapping) and token in v]
    if not values:
        return node, _MISSING
    if spread:
        flat = [x for v in values for x in (v if isinstance(v, list) else [v])]
        return node, list(dict.fromkeys(flat)) if all(isinstance(x, str) for x in flat) else flat
    return node, values[0]


def _flat(fmt: Formatter, node: Node, value: Any) -> Bi:
    return fmt.value(node, value)


def _in_order(node: Node, value: Mapping[str, Any]) -> list[tuple[str, Any]]:
    known = [k for k in node.schema.get("properties", {}) if k in value]
    return [(k, value[k]) for k in known] + [(k, v) for k, v in value.items() if k not in known]
