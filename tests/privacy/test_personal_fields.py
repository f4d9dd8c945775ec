"""Pure pseudonymisation rules over every example form: personal fields go, the result stays schema-valid, the
statistical fields stay; and the data-subject matching rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import forms
from engine.privacy import REDACTED, SubjectQuery, matching_persons, pseudonymise

EXAMPLES = Path(__file__).resolve().parents[2] / "forms" / "examples"
CASES = sorted(p for p in EXAMPLES.glob("*/*.json") if p.parent.name != "invalid")


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_examples_stay_valid_and_lose_personal_fields(path: Path) -> None:
    kind = path.parent.name
    original = json.loads(path.read_text(encoding="utf-8"))
    result, touched = pseudonymise(kind, original)
    assert forms.validate(kind, result, complete=True) == []
    assert json.loads(path.read_text(encoding="utf-8")) == original  # the argument is not modified
    if kind == "request":
        assert touched > 0
        personal = {s for p in original["persons"] for k, v in p.items() if k != "role" for s in _strings(v)}
        personal |= set(_strings(original["contact_person"]))
        personal |= set(_strings(original["facts"]))
        personal |= {a for m in original["measures"] for a in m.get("accounts", [])}
        # Values the form also holds elsewhere (a country code, the authority's city or switchboard) identify
        # nobody: only the person-specific ones must be gone.
        sections = ("persons", "contact_person", "facts", "measures")
        public = {k: v for k, v in original.items() if k not in sections}
        personal -= set(_strings(public))
        personal -= {"es", "pt", "en", "fr"}
        left = set(_strings(result))
        assert not (personal & left), personal & left
        assert [o["iccs_code"] for o in result["offences"]] == [o["iccs_code"] for o in original["offences"]]
        assert [m["type"] for m in result["measures"]] == [m["type"] for m in original["measures"]]
        assert [p["role"] for p in result["persons"]] == [p["role"] for p in original["persons"]]
        assert result["urgency"]["level"] == original["urgency"]["level"]
    for key in ("reasons", "remarks", "other_ground"):
        if key in original:
            assert result[key] == REDACTED
    for key in ("grounds", "ground", "report_type", "outcome", "references"):
        if key in original:
            assert result[key] == original[key]


def test_subject_matching() -> None:
    payload = {
        "persons": [
            {
                "role": "suspect",
                "surname": "Núñez Peña",
                "given_names": "José",
                "birth_date": "1980-01-02",
                "identity_documents": [{"type": "passport", "number": "AB-123 456", "issuing_country": "ES"}],
            },
            {"role": "company", "company_name": "Núñez Peña SL"},
            {"role": "witness", "surname": "Nunez  PENA", "given_names": "Maria"},
        ]
    }
    assert [i for i, _ in matching_persons(payload, SubjectQuery(surname="nunez pena"))] == [0, 2]
    assert [
        i for i, _ in matching_persons(payload, SubjectQuery(surname="Nuñez Peña", given_names="jose"))
    ] == [0]
    assert matching_persons(payload, SubjectQuery(surname="Núñez Peña", birth_date="1980-01-03"))[0][0] == 2
    assert [i for i, _ in matching_persons(payload, SubjectQuery(document_number="ab123456"))] == [0]
    assert matching_persons(payload, SubjectQuery(surname="Peña")) == []
    assert SubjectQuery(given_names="José").empty


def test_request_v2_sections_lose_personal_fields() -> None:
    """EIO section H identifiers and texts, signatures, purpose and remedies go; the result still validates."""
    path = next(p for p in CASES if p.stem == "fr-es-eio-interception")
    original = json.loads(path.read_text(encoding="utf-8"))
    result, _ = pseudonymise("request", original)
    assert forms.validate("request", result, complete=True) == []
    gone = {"+34 600 123 456", "+34 611 654 321", "Hélène Garnier", original["purpose"],
            original["specific_measures"]["interception"]["subject"], "ch-instruction.ca-aix@justice.fr"}
    assert not gone & set(_strings(result))
    assert result["specific_measures"]["interception"]["execution_method"] == "immediate_transmission"
    assert result["issuing_authority_type"] == original["issuing_authority_type"]
