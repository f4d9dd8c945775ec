"""A data-subject export never carries another person's identifiers, not even inside free text: a witness named
(with passport number and birth date, in other spellings) in a measure's description concerning the subject is
exported as the pseudonym retention gives them. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import privacy
from engine.cases import create_case
from engine.store.db import Database
from tests.helpers import example, make_world

WITNESS = {"role": "witness", "surname": "Zúñiga Pérez", "given_names": "María José", "birth_date": "1985-03-07",
           "identity_documents": [{"type": "passport", "number": "XK4455667", "issuing_country": "ES"}]}
# How the witness is found in the text, and what of them must not reach the export (any spelling).
DESCRIPTION = ("Identificar las cuentas de Juan Carlos Restrepo Gaviria abiertas con la ayuda de MARIA JOSE ZUNIGA "
               "PEREZ (pasaporte XK-445 5667, nacida el 7/3/1985); la Sra. Zúñiga firmó como apoderada.")
LEAKS = ("zuniga", "zúñiga", "perez", "pérez", "maria jose", "maría josé", "xk4455667", "xk-445", "445 5667",
         "1985-03-07", "7/3/1985")


def _payload() -> dict[str, Any]:
    payload = copy.deepcopy(example("request", "co-es-bank-records"))
    payload["persons"].append(WITNESS)
    payload["measures"][0]["description"] = DESCRIPTION
    payload["measures"][0]["persons"] = [0, 1, 2]  # the witness too: the same text is exported to both
    payload["offences"][0]["national_description"] = "Blanqueo con intervención de María José Zúñiga Pérez"
    return payload


def _export(db: Database, monkeypatch: pytest.MonkeyPatch, query: privacy.SubjectQuery) -> dict[str, Any]:
    """The data-subject export, by CO-FGN's supervisor, of a world holding the one request of _payload()."""
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "0")
    world = make_world(db)
    create_case(db, actor=world.actor("CO-FGN", "clerk"), counterpart="ES-MJ", payload=_payload())
    return privacy.subject_export(db, world.actor("CO-FGN", "supervisor"), query)


def test_third_person_in_free_text_is_not_exported(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _export(db, monkeypatch, privacy.SubjectQuery(surname="Restrepo Gaviria"))
    assert len(data["cases"]) == 1
    case = data["cases"][0]
    assert [p["surname"] for p in case["persons"]] == ["Restrepo Gaviria"]
    description = case["measures"][0]["description"]
    assert "Juan Carlos Restrepo Gaviria" in description  # the subject's own data and the facts stay
    assert "[P3]" in description and "apoderada" in description
    exported = privacy.json_bytes(data).decode().casefold() + privacy.subject_html(data, "es").casefold()
    for leak in LEAKS:
        assert leak not in exported, leak


def test_the_witness_gets_their_own_data_only(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _export(db, monkeypatch, privacy.SubjectQuery(document_number="xk 4455667"))
    case = data["cases"][0]
    assert case["roles"] == ["witness"]
    assert case["measures"][0]["description"].startswith("Identificar las cuentas de [P1] abiertas con la ayuda "
                                                         "de MARIA JOSE ZUNIGA PEREZ (pasaporte XK-445 5667")
    exported = privacy.json_bytes(data).decode()
    for leak in ("Restrepo", "Gaviria", "71234567", "PAB123456", "1978-04-12", "Iberoandinas"):
        assert leak not in exported, leak
