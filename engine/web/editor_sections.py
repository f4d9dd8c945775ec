"""The request editor's sections: the instrument profile's (forms/profiles.json) in the instrument's order, with its
section titles in the reader's language, each with a completion mark.

The fields come from :func:`engine.web.schema_form.build` (one tree per top-level property of the schema); each
field goes to the section whose pointer names it most precisely (``/requesting_authority/country`` to EIO section A
although ``/requesting_authority`` is section K), so a group whose fields belong to several sections is shown in
each of them with its own fields there. Inside a section the fields follow the order of the section's pointers.
A field no section names stays with the other fields of its group (the types of proceedings, an EIO item, with the
MLA's item 2); a top-level one (a schema newer than the profile) goes to a last section, *Other details*.

The marks come from the same validation as submission (the editor's ``_missing``): a section is *complete*, has
*N missing* fields (required, empty lists) or has *errors* (any other problem, or an error of the last save).
Pure functions over the field tree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.forms import FormError, Profile
from engine.i18n import N_, localized, translate
from engine.web.schema_form import Field, summary

# Problems that say "fill this in" rather than "this is wrong".
MISSING_CODES = frozenset({"required", "min_items", "min_items_one", "min_length"})
# Blocks the directory fills and the editor only shows: neither authority can be edited, nor posted (the editor
# keeps the stored blocks whatever the request carries; engine.system_fields refuses another code, country, name).
DIRECTORY_BLOCKS = ("/requesting_authority", "/requested_authority")
FRONT = N_("Legal basis, requested authority and language")
OTHER = N_("Other details")


@dataclass
class Section:
    key: str  # the instrument's letter or number; "front", "annexes", "other"
    title: str
    fields: list[Field] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (pointer, text), page order
    invalid: list[tuple[str, str]] = field(default_factory=list)
    open: bool = False

    @property
    def id(self) -> str:
        return f"s-{self.key}"

    @property
    def numbered(self) -> bool:
        return self.key not in ("front", "annexes", "other")

    @property
    def heading(self) -> str:
        return f"{self.key}. {self.title}" if self.numbered else self.title

    @property
    def state(self) -> str:
        return "errors" if self.invalid else "missing" if self.missing else "complete"


def _tokens(pointer: str) -> list[str]:
    return [t for t in pointer.split("/") if t]


def _precision(pattern: str, pointer: str) -> int | None:
    """How many tokens of ``pointer`` ``pattern`` names (``*``: any item), None when it names neither the field
    nor one of the groups it is in."""
    wanted, tokens = _tokens(pattern), _tokens(pointer)
    if len(wanted) > len(tokens) or any(w not in ("*", t) for w, t in zip(wanted, tokens, strict=False)):
        return None
    return len(wanted)


class _Layout:
    def __init__(self, patterns: list[list[str]]) -> None:
        self.patterns = patterns  # per section, its pointers in order

    def owner(self, pointer: str) -> tuple[int, int] | None:
        """(section, position of its pointer) of the most precise pointer naming ``pointer``; first wins a tie."""
        best: tuple[int, int, int] | None = None
        for index, patterns in enumerate(self.patterns):
            for position, pattern in enumerate(patterns):
                precision = _precision(pattern, pointer)
                if precision is not None and (best is None or precision > best[0]):
                    best = (precision, index, position)
        return None if best is None else (best[1], best[2])

    def split(self, item: Field, other: int) -> list[tuple[int, int, Field]]:
        """(section, position, field) for ``item``: whole, or one part per section its fields belong to."""
        own = self.owner(item.pointer)
        if item.kind != "object" or not item.children:
            index, position = own or (other, 0)
            return [(index, position, item)]
        pieces = [piece for sub in item.children for piece in self.split(sub, other)]
        by_section: dict[int, list[tuple[int, Field]]] = {}
        named = [index for index, _, _ in pieces if index != other]
        for index, position, piece in pieces:
            # a field no section names stays with its group's fields (MLA: the EIO's types of proceedings)
            by_section.setdefault(named[0] if index == other and named else index, []).append((position, piece))
        if len(by_section) == 1:
            ((index, parts),) = by_section.items()
            return [(index, own[1] if own and own[0] == index else min(p for p, _ in parts), item)]
        out = []
        for part, index in enumerate(sorted(by_section)):
            parts = by_section[index]
            copy = dataclasses.replace(item, children=[piece for _, piece in parts], part=part)
            out.append((index, min(p for p, _ in parts), copy))
        return out


def build_sections(profile: Profile, fields: list[Field], lang: str) -> list[Section]:
    """The sections of ``profile``'s request, each with its fields (empty sections are left out)."""
    document = profile.document("request")
    raw = list(document.sections) if document is not None else []
    sections = [Section("front", translate(lang, FRONT))]
    sections += [Section(str(s["key"]), str(localized(s["title"], lang))) for s in raw]
    sections.append(Section("other", translate(lang, OTHER)))
    front = list(document.front) if document is not None else []
    layout = _Layout([front, *[list(s["pointers"]) for s in raw], []])
    placed: list[tuple[int, int, int, Field]] = []
    for sequence, top in enumerate(fields):
        for index, position, piece in layout.split(top, len(sections) - 1):
            placed.append((index, position, sequence, piece))
    for index, _position, _sequence, piece in sorted(placed, key=lambda p: (p[0], p[1], p[2])):
        sections[index].fields.append(piece)
    return [s for s in sections if s.fields]


def directory_blocks(fields: Iterable[Field]) -> None:
    """Mark the authority blocks read-only, every field in them."""
    for top in fields:
        if top.pointer in DIRECTORY_BLOCKS:
            for item in top.walk():
                item.readonly = True


def mark(
    sections: list[Section],
    problems: list[FormError],
    errors: Mapping[str, list[str]],
    *,
    opened: str = "",
) -> list[tuple[str, str, Section]]:
    """Fill each section's completion mark from ``problems`` (the full validation of what is shown) and
    ``errors`` (those of the last save, shown at their fields); open the sections with errors and the one holding
    ``opened`` (a list just added to or removed from). Returns the error summary: (pointer, text, section), in page
    order, each text led by its section's heading."""
    where: dict[str, int] = {}
    for index, section in enumerate(sections):
        for top in section.fields:
            for item in top.walk():
                where.setdefault(item.pointer, index)
    flat = [top for section in sections for top in section.fields]

    def section_of(pointer: str) -> int | None:
        while pointer not in where and pointer:
            pointer = pointer.rpartition("/")[0]
        return where.get(pointer)

    grouped: dict[str, list[str]] = {}
    wrong: dict[str, list[str]] = {}
    for problem in problems:
        target = grouped if problem.code in MISSING_CODES else wrong
        target.setdefault(problem.pointer, []).append(problem.message)
    for pointer, texts in errors.items():
        for text in texts:
            if text not in grouped.get(pointer, []) and text not in wrong.get(pointer, []):
                wrong.setdefault(pointer, []).append(text)
    for pointer, text in summary(flat, grouped):
        index = section_of(pointer)
        if index is not None:
            sections[index].missing.append((pointer, text))
    for pointer, text in summary(flat, wrong):
        index = section_of(pointer)
        if index is not None:
            sections[index].invalid.append((pointer, text))
    shown = []
    for pointer, text in summary(flat, errors):
        index = section_of(pointer)
        if index is not None:
            sections[index].open = True
            shown.append((pointer, f"{sections[index].heading} › {text}", sections[index]))
    if opened:
        index = section_of(opened)
        if index is not None:
            sections[index].open = True
    return shown
