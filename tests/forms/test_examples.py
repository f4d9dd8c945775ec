"""Every example in forms/examples/ is valid (or fails exactly as its .errors.json says)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import forms
from tests.forms.conftest import EXAMPLES, invalid_examples, load, valid_examples
from tests.forms.reference import reference_codes


@pytest.mark.parametrize("path", valid_examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_is_valid(path: Path) -> None:
    payload = load(path)
    form = path.parent.name
    assert payload["$schema"] == forms.schema_id(form)
    assert forms.validate(form, payload) == []
    # jsonschema, the reference, agrees.
    assert reference_codes(form, payload, True) == set()


def test_an_example_of_every_form() -> None:
    for form in forms.FORMS:
        assert list((EXAMPLES / form).glob("*.json")), form
    reports = {load(p)["report_type"] for p in (EXAMPLES / "execution_report").glob("*.json")}
    assert reports == {"partial", "final"}


def test_request_examples_cover_languages_and_measures() -> None:
    requests = [load(p) for p in (EXAMPLES / "request").glob("*.json")]
    assert len(requests) >= 4
    assert {r["language"] for r in requests} >= {"es", "pt", "fr", "en"}
    routes = {(r["requesting_authority"]["code"], r["requested_authority"]["code"]) for r in requests}
    assert {("CO-FGN", "ES-MJ"), ("BR-MJSP", "PT-PGR"), ("FR-MJ", "MX-FGR"), ("CL-MP", "UY-MEC")} <= routes
    measures = {m["type"] for r in requests for m in r["measures"]}
    assert {"bank_records", "witness_hearing", "freezing", "service_of_documents"} <= measures
    hearing = next(m for r in requests for m in r["measures"] if m["type"] == "witness_hearing")
    assert hearing["hearing_mode"] == "videoconference"


@pytest.mark.parametrize("path", invalid_examples(), ids=lambda p: p.name)
@pytest.mark.parametrize("lang", ["es", "pt", "en", "fr"])
def test_invalid_example_gives_expected_errors(path: Path, lang: str) -> None:
    payload = load(path)
    expected = load(path.with_name(path.stem + ".errors.json"))
    errors = forms.validate(payload["$schema"], payload, lang=lang)
    assert [{"pointer": e.pointer, "code": e.code} for e in errors] == expected
    assert all(e.message and "{" not in e.message for e in errors)
