"""Behaviour of validate(): drafts, conditional rules, localized labels, versions, parse limits."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from engine import forms
from engine.forms import FormError, InvalidDocument, SchemaCatalog, Validation
from engine.forms._validate import default_validation
from engine.i18n import UnsupportedLanguage
from tests.forms.conftest import EXAMPLES, load

REQUEST = load(EXAMPLES / "request" / "co-es-bank-records.json")


def request(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(REQUEST)
    doc.update(changes)
    return doc


def codes(errors: list[FormError]) -> set[tuple[str, str]]:
    return {(e.pointer, e.code) for e in errors}


def test_form_error_shape() -> None:
    error = FormError("/a", "required", "msg")
    assert error.as_dict() == {"pointer": "/a", "code": "required", "message": "msg"}
    with pytest.raises(AttributeError):
        error.code = "x"  # type: ignore[misc]


def test_all_errors_at_once() -> None:
    doc = request(language="de", procedural_stage=7)
    del doc["facts"]
    assert codes(forms.validate("request", doc)) == {
        ("/language", "enum"),
        ("/procedural_stage", "type"),
        ("/procedural_stage", "enum"),
        ("/facts", "required"),
    }


def test_draft_checks_only_what_is_present() -> None:
    assert forms.validate("request", {}, complete=False) == []
    assert (
        forms.validate(
            "request", {"persons": [{"role": "witness"}], "facts": {"summary": ""}}, complete=False
        )
        == []
    )
    errors = forms.validate(
        "request", {"urgency": {"level": "urgent", "due_date": "31/12/2026"}, "extra": 1}, complete=False
    )
    assert codes(errors) == {("/urgency/due_date", "format"), ("/extra", "unknown_field")}
    assert codes(forms.validate("request", {"persons": [{"role": "witness"}]})) >= {
        ("/persons/0/surname", "required"),
        ("/facts", "required"),
    }


def test_urgency_reason_and_date_required_only_when_urgent() -> None:
    assert forms.validate("request", request(urgency={"level": "normal"})) == []
    errors = forms.validate("request", request(urgency={"level": "urgent"}))
    assert codes(errors) == {("/urgency/reason", "required"), ("/urgency/due_date", "required")}


def test_company_needs_a_name_and_people_need_names() -> None:
    doc = request(persons=[{"role": "company"}, {"role": "victim"}])
    assert codes(forms.validate("request", doc)) == {
        ("/persons/0/company_name", "required"),
        ("/persons/1/surname", "required"),
        ("/persons/1/given_names", "required"),
    }


def test_hearing_needs_mode_and_persons() -> None:
    doc = request(measures=[{"type": "suspect_hearing", "description": "Declaración del investigado"}])
    assert codes(forms.validate("request", doc)) == {
        ("/measures/0/hearing_mode", "required"),
        ("/measures/0/persons", "required"),
    }


@pytest.mark.parametrize("code", ["07", "0704", "07041", "070411", "11", "1101"])
def test_iccs_levels_accepted(code: str) -> None:
    doc = request()
    doc["offences"][0]["iccs_code"] = code
    assert forms.validate("request", doc) == []


@pytest.mark.parametrize("code", ["7", "12", "00", "070", "0704111", "07a4", "A7041"])
def test_iccs_bad_codes_refused(code: str) -> None:
    doc = request()
    doc["offences"][0]["iccs_code"] = code
    assert codes(forms.validate("request", doc)) == {("/offences/0/iccs_code", "pattern")}


def test_iso_codes_checked() -> None:
    doc = request()
    doc["persons"][0]["nationalities"] = ["CO", "XX"]
    doc["contact_person"]["languages"] = ["es", "zz"]
    assert codes(forms.validate("request", doc)) == {
        ("/persons/0/nationalities/1", "format"),
        ("/contact_person/languages/1", "format"),
    }


@pytest.mark.parametrize(
    ("field", "value"), [("received_at", "2026-11-24 09:15"), ("received_at", "yesterday")]
)
def test_date_time_format(field: str, value: str) -> None:
    doc = load(EXAMPLES / "acknowledgement" / "es-co-receipt.json") | {field: value}
    assert codes(forms.validate("acknowledgement", doc)) == {(f"/{field}", "format")}


def test_refusal_rules() -> None:
    base = {"references": {"requesting": "FR-MJ/1"}, "reasons": "Motifs."}
    assert forms.validate("refusal", base | {"grounds": ["ne_bis_in_idem"]}) == []
    assert codes(forms.validate("refusal", base | {"grounds": []})) == {("/grounds", "min_items")}
    assert codes(forms.validate("refusal", base | {"grounds": ["other"]})) == {("/other_ground", "required")}
    assert (
        forms.validate("refusal", base | {"grounds": ["other"], "other_ground": "Infraction politique."})
        == []
    )


MESSAGES = {
    "es": "«Resumen de los hechos» es obligatorio.",
    "pt": "«Resumo dos factos» é obrigatório.",
    "en": "“Summary of facts” is required.",
    "fr": "«\u202fExposé des faits\u202f» est obligatoire.",
}


@pytest.mark.parametrize("lang", sorted(MESSAGES))
def test_messages_localized_with_schema_labels(lang: str) -> None:
    doc = request()
    del doc["facts"]["summary"]
    assert forms.validate("request", doc, lang=lang) == [
        FormError("/facts/summary", "required", MESSAGES[lang])
    ]


def test_label_of_list_items_and_unknown_fields() -> None:
    doc = request(persons=["Juan"], **{"a/b~c": 1})
    by_pointer = {e.pointer: e.message for e in forms.validate("request", doc, lang="es")}
    assert by_pointer["/persons/0"] == "«Personas afectadas (1)» debe ser un grupo de campos."
    assert by_pointer["/a~1b~0c"] == "«a/b~c» no es un campo de este formulario."


def test_unsupported_language() -> None:
    with pytest.raises(UnsupportedLanguage):
        forms.validate("request", {}, lang="de")


def test_not_a_json_value_does_not_raise() -> None:
    errors = forms.validate(
        "request", request(urgency={"level": "urgent", "reason": float("inf"), "due_date": {1, 2}})
    )
    assert errors and all(isinstance(e, FormError) for e in errors)
    assert forms.validate("request", "text")[0].code == "type"


# --- versions -----------------------------------------------------------------------------------------------
def _stored_v1() -> dict[str, Any]:
    """A request as stored before request v2 existed: no v2 fields, ``earlier_request`` still a short text."""
    stored = {k: v for k, v in copy.deepcopy(REQUEST).items() if k not in ("proceedings", "purpose")}
    return stored | {"$schema": "https://exhorto.eu/schemas/request/v1", "earlier_request": "CO-FGN/2025/000007"}


def test_old_versions_keep_validating() -> None:
    v1, v2 = "https://exhorto.eu/schemas/request/v1", "https://exhorto.eu/schemas/request/v2"
    assert forms.schema_id("request") == v2
    assert forms.versions("request") == [v1, v2]
    stored = _stored_v1()
    assert forms.validate(v1, stored) == []
    # Under v2 the same payload lacks the UNTOC Art. 18(15) items and has the old shape of section D.
    assert codes(forms.validate("request", stored | {"$schema": v2})) == {
        ("/earlier_request", "type"), ("/proceedings", "required"), ("/purpose", "required")
    }
    # v1 refuses what only v2 knows: each stored $id is validated by its own exact version.
    assert codes(forms.validate(v1, stored | {"purpose": "x"})) == {("/purpose", "unknown_field")}
    # Rendering needs the old schema's labels: still there.
    assert forms.load_schema(v1)["properties"]["facts"]["x-title"]["es"] == "Hechos"
    assert default_validation().label(v2, ("purpose",), "fr").startswith("Finalité")


def test_validators_compiled_once() -> None:
    from engine.forms._validate import default_validation

    first = default_validation().compiled("request", True)
    forms.validate("request", REQUEST)
    assert default_validation().compiled(forms.schema_id("request"), True) is first


# --- parsing untrusted text ---------------------------------------------------------------------------------
def test_parse_json_roundtrip() -> None:
    text = (EXAMPLES / "request" / "co-es-bank-records.json").read_bytes()
    assert forms.parse_json(text) == REQUEST
    assert forms.parse_json(b"\xef\xbb\xbf" + text) == REQUEST


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"a": 1,}', "malformed_json"),
        ("", "malformed_json"),
        (b"\xff\xfe{}", "not_utf8"),
        ('{"a": 1, "a": 2}', "duplicate_key"),
        ('{"a": NaN}', "invalid_number"),
        ("[" * 40 + "]" * 40, "too_deep"),
        ("[" * 100_000 + "]" * 100_000, "too_deep"),
        (b" " * (forms.MAX_BYTES + 1), "too_large"),
    ],
)
@pytest.mark.parametrize("lang", ["es", "pt", "en", "fr"])
def test_parse_json_refuses_bad_input(text: str | bytes, code: str, lang: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        forms.parse_json(text, lang=lang)
    [error] = caught.value.errors
    assert (error.pointer, error.code) == ("", code)
    assert error.message and "{" not in error.message
    assert caught.value.as_dict()["errors"][0]["code"] == code


def test_parse_json_messages_translated() -> None:
    with pytest.raises(InvalidDocument) as caught:
        forms.parse_json('{"a":', lang="es")
    assert caught.value.errors[0].message.startswith("El documento no es un JSON válido (línea 1, columna 6)")


def test_any_keyword_and_properties_named_like_keywords(tmp_path: Path) -> None:
    """The whole of JSON Schema is validated (no supported subset), and the rewrite for jsonschema-rs touches
    keywords only: properties called "required", "format" or "minLength" are data and keep their rules."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://exhorto.eu/schemas/note/v1",
        "title": "Note",
        "x-title": {"es": "Nota", "pt": "Nota", "fr": "Note"},
        "type": "object",
        "patternProperties": {"^x_": {"type": "integer"}},
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "title": "Text", "x-title": {"es": "Texto"}},
            "required": {"type": "string", "minLength": 2, "format": "iso3166-alpha2"},
            "format": {"oneOf": [{"type": "integer"}, {"type": "string", "format": "email"}]},
            "minLength": {"type": "array", "minItems": 1, "items": {"format": "iso639-1"}},
        },
    }
    (tmp_path / "note.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    validation = Validation(SchemaCatalog(tmp_path))
    assert validation.validate("note", {"text": "a", "x_n": 1, "required": "ES", "format": 3}) == []
    errors = validation.validate(
        "note", {"x_n": "1", "required": "XX", "format": "a b", "minLength": ["zz"]}, lang="es"
    )
    assert codes(errors) == {
        ("/text", "required"),
        ("/x_n", "type"),
        ("/required", "format"),
        ("/format", "invalid"),
        ("/minLength/0", "format"),
    }
    assert all(e.message and "{" not in e.message for e in errors)
    # A draft drops presence and minimum sizes, and nothing else.
    draft = validation.validate("note", {"required": "E", "minLength": [], "format": "a@b"}, complete=False)
    assert codes(draft) == {("/required", "format")}


def _report_with_currency(currency: str) -> dict[str, Any]:
    doc = load(EXAMPLES / "execution_report" / "es-co-final.json")
    measure = next(m for m in doc["measures_executed"] if m.get("assets"))
    measure["assets"][0]["currency"] = currency
    return doc


@pytest.mark.parametrize("currency", ["EUR", "COP", "BRL", "MXN", "XAU"])
def test_asset_currency_in_iso_4217_is_accepted(currency: str) -> None:
    assert forms.validate("execution_report", _report_with_currency(currency)) == []


@pytest.mark.parametrize("currency", ["EUX", "BTC", "XTS", "XXX"])
def test_asset_currency_outside_iso_4217_is_refused_in_the_readers_language(currency: str) -> None:
    doc = _report_with_currency(currency)
    pointer = next(f"/measures_executed/{i}/assets/0/currency"
                   for i, m in enumerate(doc["measures_executed"]) if m.get("assets"))
    expected = {
        "en": "” is not a valid ISO 4217 currency code.",
        "es": "» no es válido: se espera código de moneda ISO 4217.",
        "pt": "» não é válido: espera-se código de moeda ISO 4217.",
        "fr": "\u202f» n'est pas valide\u202f: format attendu code devise ISO 4217.",  # French spacing
    }
    for lang, tail in expected.items():
        errors = forms.validate("execution_report", doc, lang=lang)
        assert [(e.pointer, e.code) for e in errors] == [(pointer, "format")]
        assert errors[0].message.endswith(tail), errors[0].message
        assert "4217" in errors[0].message.split(tail)[0]  # the field's own label: "Currency (ISO 4217)"


def test_request_amount_currency_is_checked_against_iso_4217() -> None:
    from engine.forms._formats import currencies

    assert {"EUR", "USD", "COP", "BRL", "MXN", "CLP", "UYU", "JMD"} <= currencies()
    assert not {"XTS", "XXX", "BTC"} & currencies()
