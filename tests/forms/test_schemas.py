"""The schema files themselves: well-formed Draft 2020-12, versioned ids, labels in every language."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from engine import forms
from engine.forms._catalog import ID_PATTERN, default_catalog
from tests.forms.conftest import SCHEMAS, load

# Forms that have a new version (the older ones stay in forms/schemas/versions/).
CURRENT_VERSIONS = {"request": 2, "acknowledgement": 2}
SCHEMA_FILES = sorted(SCHEMAS.rglob("*.schema.json"))


def test_forms_contract() -> None:
    assert forms.FORMS == (
        "request",
        "acknowledgement",
        "clarification_request",
        "clarification_answer",
        "refusal",
        "postponement",
        "execution_report",
        "withdrawal",
        "closure",
    )
    for name in forms.FORMS:
        assert (SCHEMAS / f"{name}.schema.json").is_file()
        version = CURRENT_VERSIONS.get(name, 1)
        assert forms.schema_id(name) == f"https://exhorto.eu/schemas/{name}/v{version}"
        assert len(forms.versions(name)) == version
        assert forms.load_schema(name)["$id"] == forms.schema_id(name)
        assert forms.load_schema(forms.schema_id(name)) is forms.load_schema(name)


def test_public_names() -> None:
    assert forms.__all__ == sorted(forms.__all__)
    for name in forms.__all__:
        assert hasattr(forms, name)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path: Any) -> None:
    schema = load(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert ID_PATTERN.match(schema["$id"])
    Draft202012Validator.check_schema(schema)


def _properties(schema: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            found.append((f"{where}/{name}", sub))
        for key, sub in schema.items():
            if key != "x-title":
                found.extend(_properties(sub, f"{where}/{key}"))
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            found.extend(_properties(sub, f"{where}/{i}"))
    return found


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_field_has_a_label_in_every_language(path: Any) -> None:
    # "pt" is European Portuguese; "pt_BR" is added only where Brazilian wording differs (i18n.localized).
    schema = load(path)
    labelled = _properties(schema)
    missing = [
        where
        for where, sub in labelled
        if isinstance(sub, dict) and "title" in sub
        and set(sub.get("x-title", {})) - {"pt_BR", "pt_PT"} != {"es", "pt", "fr"}
    ]
    untitled = [
        where
        for where, sub in labelled
        if isinstance(sub, dict) and not sub.get("title") and "/if/" not in where and "/contains" not in where
    ]
    assert not missing, missing
    assert not untitled, untitled


def test_no_network_lookup() -> None:
    resolver = default_catalog().registry.resolver()
    with pytest.raises(Unresolvable):
        resolver.lookup("https://example.org/schema.json")


def test_unknown_form_is_an_exhorto_error() -> None:
    from engine.errors import ExhortoError

    with pytest.raises(forms.UnknownForm) as caught:
        forms.validate("letter_rogatory", {})
    assert isinstance(caught.value, ExhortoError)
    assert "letter_rogatory" in caught.value.message("es")
    assert caught.value.message("es").startswith("Formulario desconocido")
    with pytest.raises(forms.UnknownForm):
        forms.load_schema("https://exhorto.eu/schemas/request/v9")
    with pytest.raises(forms.UnknownForm):
        forms.schema_id("common")
