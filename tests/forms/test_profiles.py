"""Instrument profiles (forms/profiles.json): the right instrument for two States, every section of the
instrument present and pointing at real fields, and the schema requiring what the profile requires."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from engine import forms
from engine.forms._profiles import schema_node
from tests.forms.conftest import EXAMPLES, load

DOCS = Path(__file__).resolve().parents[2] / "docs" / "forms.md"
EIO_EXAMPLE = load(EXAMPLES / "request" / "fr-es-eio-interception.json")
MLA_EXAMPLE = load(EXAMPLES / "request" / "fr-mx-asset-freezing.json")


@pytest.mark.parametrize(
    ("requesting", "requested", "expected"),
    [("FR", "ES", "EIO"), ("PT", "DE", "EIO"), ("IE", "FR", None), ("FR", "DK", None), ("ES", "MX", None),
     ("CO", "BR", None)],
)
def test_instrument_follows_from_the_two_states(requesting: str, requested: str, expected: str | None) -> None:
    assert forms.default_instrument(requesting, requested) == expected
    assert forms.instrument_applies("EIO", requesting, requested) is (expected == "EIO")
    assert forms.instrument_applies("UNTOC", requesting, requested)


def test_every_instrument_has_one_profile() -> None:
    instrument_enum = forms.load_schema("request")["properties"]["legal_basis"]["properties"]["instrument"]["enum"]
    owners = {i: [p.id for p in forms.profiles() if i in p.instruments] for i in instrument_enum}
    assert all(len(ids) == 1 for ids in owners.values()), owners
    assert forms.profile_for_instrument("EIO").layout == "eio"
    assert forms.profile_for_instrument("MEDELLIN").layout == "numbered"
    assert forms.profile_of(EIO_EXAMPLE).id == "eio" and forms.profile_of(MLA_EXAMPLE).id == "mla"


def test_sections_are_the_instruments_own() -> None:
    eio = forms.profile_for_instrument("EIO")
    annex_a = [s["key"] for s in eio.documents["request"].sections]
    assert annex_a == [*"ABCDEFGHIJKL", "annexes"]
    sections = {s["key"]: s for s in eio.documents["request"].sections}
    subsections = forms.load_schema("request")["properties"]["specific_measures"]["properties"]
    titles = [subsections[p.rsplit("/", 1)[1]]["title"] for p in sections["H"]["pointers"]]
    # Annex A has seven subsections, the last one interception; none for a covert investigation, whose reasons
    # (Art. 29(2)) go with the measures of section C.
    assert [t[:2] for t in titles] == [f"H{n}" for n in range(1, 8)]
    assert sections["H"]["pointers"][-1] == "/specific_measures/interception"
    assert "/specific_measures/covert_investigation" in sections["C"]["pointers"]
    assert not re.match(r"H\d", subsections["covert_investigation"]["title"])
    assert not any(re.match(r"H\d", t) for t in subsections["covert_investigation"]["x-title"].values())
    assert [s["key"] for s in eio.documents["acknowledgement"].sections] == list("ABCDE")
    mla = forms.profile_for_instrument("UNTOC")
    assert [s.get("untoc") for s in mla.documents["request"].sections if s.get("untoc")] == list("abcdef")
    item_d = next(s for s in mla.documents["request"].sections if s.get("untoc") == "d")
    assert "/specific_measures" in item_d["pointers"]  # every specific measure, covert investigation included


@pytest.mark.parametrize("profile", forms.profiles(), ids=lambda p: p.id)
def test_printed_options_are_codes_of_their_field(profile: forms.Profile) -> None:
    """A section's ``options`` (the grid an instrument's form prints) and ``option_titles`` name codes of the field
    they belong to, and every own title is in the four languages."""
    for form, document in profile.documents.items():
        for section in document.sections:
            for key in ("options", "option_titles"):
                for pointer, codes in section.get(key, {}).items():
                    assert pointer in section["pointers"], (section["key"], pointer)
                    node = schema_node(form, pointer)
                    assert node is not None, pointer
                    enum = node.get("enum") or node.get("items", {}).get("enum") or []
                    assert set(codes) <= set(enum), (section["key"], set(codes) - set(enum))
                    if key == "option_titles":
                        assert all(set(t) == {"en", "es", "pt", "fr"} for t in codes.values()), section["key"]


@pytest.mark.parametrize("profile", forms.profiles(), ids=lambda p: p.id)
def test_every_pointer_names_a_field(profile: forms.Profile) -> None:
    for form, document in profile.documents.items():
        pointers = list(document.front) + [p for s in document.sections for p in s["pointers"]]
        missing = [p for p in pointers if schema_node(form, p) is None]
        assert not missing, (form, missing)
        for section in document.sections:
            assert set(section["title"]) - {"pt_BR", "pt_PT"} == {"en", "es", "pt", "fr"}
    assert all(schema_node("request", p) is not None for p in profile.required)


@pytest.mark.parametrize(("profile_id", "example"), [("eio", EIO_EXAMPLE), ("mla", MLA_EXAMPLE)])
def test_schema_requires_what_the_profile_requires(profile_id: str, example: dict) -> None:
    profile = next(p for p in forms.profiles() if p.id == profile_id)
    assert forms.validate("request", example) == []
    for pointer in profile.required:
        payload = copy.deepcopy(example)
        *parents, last = pointer.strip("/").split("/")
        target = payload
        for token in parents:
            target = target[token]
        del target[last]
        assert (pointer, "required") in {(e.pointer, e.code) for e in forms.validate("request", payload)}, pointer


def test_docs_table_covers_every_section_and_pointer() -> None:
    """docs/forms.md maps every section/subsection to schema pointers; each pointer exists, no section is missing."""
    text = DOCS.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`/" in line]
    for row in rows:
        form = "acknowledgement" if "Annex B" in row else "request"
        for pointer in re.findall(r"`(/[^`]*)`", row):
            assert schema_node(form, pointer) is not None, (row, pointer)
    labels = {row.split("|")[1].strip() for row in rows}
    expected = {f"Annex A {k}" for k in "ABCDEFGIJKL"} | {f"Annex A H{n}" for n in range(1, 8)}
    expected |= {f"Annex B {k}" for k in "ABCDE"} | {f"UNTOC 18(15)({k})" for k in "abcdef"}
    assert expected <= labels, sorted(expected - labels)
    assert "Annex A H8" not in labels


@pytest.mark.parametrize("profile", forms.profiles(), ids=lambda p: p.id)
def test_layouts_show_every_field_of_the_form(profile: forms.Profile) -> None:
    """A rendered document drops nothing: every top-level field of the form is under some pointer of the layout."""
    for form, document in profile.documents.items():
        pointers = list(document.front) + [p for s in document.sections for p in s["pointers"]]
        covered = {p.split("/")[1] for p in pointers}
        fields = set(forms.load_schema(form)["properties"]) - {"$schema"}
        assert fields <= covered, (form, sorted(fields - covered))


def test_facts_may_be_left_out_only_of_a_request_for_service_of_documents() -> None:
    """UNTOC Art. 18(15)(c) and UNCAC Art. 46(15)(c): "a summary of the relevant facts, except in relation to requests
    for the purpose of service of judicial documents"; an EIO always has one (Annex A section G)."""
    service = load(EXAMPLES / "request" / "cl-uy-service-of-documents.json")
    assert [m["type"] for m in service["measures"]] == ["service_of_documents"]
    del service["facts"]
    assert forms.validate("request", service) == []
    service["measures"].append({"type": "obtain_documents", "description": "Copia del expediente."})
    assert ("/facts", "required") in {(e.pointer, e.code) for e in forms.validate("request", service)}
    eio = copy.deepcopy(EIO_EXAMPLE)
    del eio["facts"]
    eio["measures"] = [{"type": "service_of_documents", "description": "Signification de l'ordonnance."}]
    assert ("/facts", "required") in {(e.pointer, e.code) for e in forms.validate("request", eio)}
