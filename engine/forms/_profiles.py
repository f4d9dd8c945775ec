"""Instrument profiles: which legal instrument governs a request between two States, and what its documents hold.

The profiles are data (``forms/profiles.json``): for each instrument family the sections of its documents in the
instrument's own order and numbering (EIO Annex A sections A-L and H1-H7, Annex B A-E; the items of UNTOC
Art. 18(15) for every other request), the fields it requires, the document layout and the deadline policy. The
request schema enforces the same requirements (its ``allOf``); ``tests/forms/test_profiles.py`` checks that the
two agree and that every pointer names a field of the schema.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

PROFILES_FILE = Path(__file__).resolve().parents[2] / "forms" / "profiles.json"


@dataclass(frozen=True)
class DocumentLayout:
    title: Mapping[str, str] | None  # per language; None: the schema's own title
    front: tuple[str, ...]  # pointers shown before the first section (legal basis, addressee, …)
    sections: tuple[Mapping[str, Any], ...]  # {"key", "title": {lang: …}, "pointers": [...], …}


@dataclass(frozen=True)
class Profile:
    id: str
    title: Mapping[str, str]
    instruments: tuple[str, ...]
    layout: str  # "eio" (lettered sections, checkbox grids) | "numbered" (UNODC-style numbered request)
    deadlines: str  # a legal basis of engine/config/deadlines.toml, or "instrument" (the request's own)
    required: tuple[str, ...]
    documents: Mapping[str, DocumentLayout]

    def document(self, form: str) -> DocumentLayout | None:
        return self.documents.get(form)


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PROFILES_FILE.read_text(encoding="utf-8"))
    return data


@cache
def profiles() -> tuple[Profile, ...]:
    out = []
    for raw in _data()["profiles"]:
        documents = {
            form: DocumentLayout(doc.get("title"), tuple(doc.get("front", ())), tuple(doc["sections"]))
            for form, doc in raw["documents"].items()
        }
        out.append(Profile(raw["id"], raw["title"], tuple(raw["instruments"]), raw["layout"], raw["deadlines"],
                           tuple(raw["required"]), documents))
    return tuple(out)


@cache
def eu_member_states() -> frozenset[str]:
    text = files("engine").joinpath("data/countries.csv").read_text(encoding="utf-8")
    return frozenset(row["iso2"] for row in csv.DictReader(text.splitlines()) if row["region"] == "EU")


def bound_by_eio(country: str) -> bool:
    return country in eu_member_states() and country not in _data()["not_bound_by_eio"]["states"]


def profile_for_instrument(instrument: str | None) -> Profile:
    """The profile of a legal basis instrument (unknown or missing: the general MLA profile)."""
    for profile in profiles():
        if instrument in profile.instruments:
            return profile
    return next(p for p in profiles() if p.id == "mla")


def profile_of(payload: Mapping[str, Any]) -> Profile:
    basis = payload.get("legal_basis")
    return profile_for_instrument(basis.get("instrument") if isinstance(basis, Mapping) else None)


def default_instrument(requesting_country: str, requested_country: str) -> str | None:
    """EIO between two States bound by the Directive; otherwise None (a treaty or convention the user chooses)."""
    return "EIO" if bound_by_eio(requesting_country) and bound_by_eio(requested_country) else None


def instrument_applies(instrument: str, requesting_country: str, requested_country: str) -> bool:
    """An EIO only between two States bound by the Directive; the other instruments depend on ratifications the
    engine does not track, so they are accepted for any pair."""
    return instrument != "EIO" or default_instrument(requesting_country, requested_country) == "EIO"


def schema_node(schema_id: str, pointer: str) -> dict[str, Any] | None:
    """The schema of the field at ``pointer`` (``*`` = any item of a list) under ``schema_id``, ``$ref``s
    followed; None when the schema has no such field."""
    from engine.forms._catalog import default_catalog

    catalog = default_catalog()
    resolver = catalog.registry.resolver(base_uri=catalog.schema_id(schema_id))
    node: Any = catalog.load(schema_id)
    for token in filter(None, pointer.split("/")):
        while isinstance(node, dict) and "$ref" in node:
            resolved = resolver.lookup(node["$ref"])
            node, resolver = resolved.contents, resolved.resolver
        if not isinstance(node, dict):
            return None
        node = node.get("items") if token == "*" else node.get("properties", {}).get(token)
        if node is None:
            return None
    while isinstance(node, dict) and "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        node = {**resolved.contents, **{k: v for k, v in node.items() if k != "$ref"}}
        resolver = resolved.resolver
    return node if isinstance(node, dict) else None
