"""Bounded-time fuzzing (hypothesis) of what strangers can send: signed-envelope parsing and the inbox never
fail other than with a clear rejection and write nothing; form validation never raises on any JSON value.
`bench/fuzz.py` runs the same targets for longer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from engine import forms
from engine.inbox import receive_signed
from engine.store.db import Database
from engine.store.federation_models import SignedMessage
from engine.store.models import AuditEvent, Case, Message
from engine.transport.signing import ENVELOPE_FIELDS, Malformed, parse_transmission
from tests.fuzz_targets import hostile_json_values, json_values, nested, transmissions

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                   database=None)


@BOUNDED
@given(st.one_of(st.binary(max_size=300), transmissions().map(lambda t: json.dumps(t).encode())))
def test_parse_transmission_only_raises_malformed(raw: bytes) -> None:
    try:
        parsed = parse_transmission(raw)
    except Malformed as error:
        assert str(error)  # says what is wrong
        return
    assert set(parsed.envelope) == set(ENVELOPE_FIELDS)


@pytest.fixture(scope="module")
def node_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from engine import keys
    from engine.seed import seed_demo

    db = Database(f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'node.db'}")
    db.create_all()
    seed_demo(db)
    keys.generate(db, "ES-MJ")
    yield db
    db.dispose()


def _rows(db: Database) -> tuple[int, ...]:
    with db.reader() as session:
        return tuple(session.exec(select(func.count()).select_from(m)).one()
                     for m in (Case, Message, AuditEvent, SignedMessage))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture],
          database=None)
@given(transmissions())
def test_inbox_rejects_forgeries_and_writes_nothing(node_db: Database, data: dict[str, Any]) -> None:
    before = _rows(node_db)
    signed = receive_signed(node_db, json.dumps(data).encode())
    assert signed.receipt["status"] == "rejected" and signed.receipt["reason"]
    assert _rows(node_db) == before


@BOUNDED
@given(st.sampled_from(sorted(forms.FORMS)), json_values(), st.booleans(), st.sampled_from(["es", "pt", "en", "fr"]))
def test_form_validation_never_raises(form: str, payload: Any, complete: bool, lang: str) -> None:
    errors = forms.validate(form, payload, complete=complete, lang=lang)
    assert isinstance(errors, list)
    for error in errors:
        assert error.message and isinstance(error.pointer, str)


def _encoded(value: Any) -> bytes:
    """JSON text of any value, as a hostile client could write it (NaN, Infinity, lone surrogates included)."""
    return json.dumps(value, ensure_ascii=True).encode()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture],
          database=None)
@given(st.one_of(transmissions(hostile_json_values()).map(_encoded),
                 st.integers(min_value=500, max_value=20_000).map(nested)))
def test_inbox_refuses_hostile_documents_and_writes_nothing(node_db: Database, raw: bytes) -> None:
    before = _rows(node_db)
    signed = receive_signed(node_db, raw)
    assert signed.receipt["status"] == "rejected" and signed.receipt["reason"]
    assert _rows(node_db) == before


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture],
          database=None)
@given(hostile_json_values(), st.sampled_from(["es", "pt", "en", "fr"]))
def test_case_creation_accepts_or_refuses_clearly(node_db: Database, payload: Any, lang: str) -> None:
    from dataclasses import replace

    from engine.cases import create_case
    from engine.directory import actor_for
    from engine.errors import ExhortoError

    actor = replace(actor_for(node_db, "co.clerk"), language=lang)
    before = _rows(node_db)
    try:
        created = create_case(node_db, actor=actor, counterpart="ES-MJ",
                              payload=payload if isinstance(payload, dict) else {"value": payload})
    except ExhortoError as refused:
        assert refused.message(lang)
        assert _rows(node_db) == before
        return
    assert created.payload["references"]["requesting"] == created.reference
