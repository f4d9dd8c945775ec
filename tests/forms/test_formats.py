"""The formats read alike by the engine's validator (jsonschema-rs over the rewritten schemas) and by jsonschema,
on the strings where two regular-expression engines or two RFC 3339 readers could differ."""

from __future__ import annotations

import copy
from datetime import date, datetime

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import forms
from engine.forms._compile import rewrite
from engine.forms._formats import format_checker, schema_patterns
from tests.forms.conftest import EXAMPLES, load
from tests.forms.reference import reference_codes

EDGES = [
    "", "CO", "co", "CO\n", "XX", "es", "es\n", "zz", "2026-12-31", "2026-12-31\n", "2024-02-29", "2026-02-29",
    "0000-01-01", "0001-01-01", "2026-12-31T10:00:00Z", "2026-12-31T10:00:00z", "2026-12-31t10:00:00+01:00",
    "2026-12-31T23:59:60Z", "0000-01-01T00:00:00Z", "2026-12-31T10:00:00.123456789Z", "2026-12-31T10:00:00",
    "2026-12-31 10:00:00Z", "2026-12-31T10:00:00+24:00", "x@y.z", "x@y.z\n", "a b@c", "a@b@c", "@b", "a@",
    "a\u00a0b@c", "josé@correo.es", "https://e.x/a?b#c", "http://a b", "mailto:\x1f", "urn:x", "1http:x",
    "+34 91 123 45 67", "+34 91 123 45 67\n",
]
FORMATS = ["date", "date-time", *schema_patterns()]


@pytest.mark.parametrize("name", sorted(set(FORMATS)))
@pytest.mark.parametrize("text", EDGES)
def test_format_read_alike(name: str, text: str) -> None:
    engine = jsonschema_rs.validator_for(rewrite({"format": name}, complete=True), validate_formats=True)
    assert engine.is_valid(text) == format_checker().conforms(text, name)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(set(FORMATS))), text=st.text(max_size=30) | st.sampled_from(EDGES))
def test_format_read_alike_on_random_text(name: str, text: str) -> None:
    engine = jsonschema_rs.validator_for(rewrite({"format": name}, complete=True), validate_formats=True)
    assert engine.is_valid(text) == format_checker().conforms(text, name)


@pytest.mark.parametrize("text", [t for t in EDGES if t[:4].isdigit()])
def test_accepted_dates_are_readable_by_the_engine(text: str) -> None:
    """What passes the forms can be read by date/datetime.fromisoformat later (formatting, deadlines)."""
    for name, read in (("date", date.fromisoformat), ("date-time", datetime.fromisoformat)):
        if jsonschema_rs.validator_for(rewrite({"format": name}, complete=True), validate_formats=True).is_valid(text):
            read(text.upper() if name == "date-time" else text)


REQUEST = load(EXAMPLES / "request" / "co-es-bank-records.json")
ACK = load(EXAMPLES / "acknowledgement" / "es-co-receipt.json")
FIELDS = [
    ("request", REQUEST, ("requesting_authority", "country")),
    ("request", REQUEST, ("requesting_authority", "phone")),
    ("request", REQUEST, ("requesting_authority", "email")),
    ("request", REQUEST, ("urgency", "due_date")),
    ("request", REQUEST, ("language",)),
    ("acknowledgement", ACK, ("received_at",)),
]


@pytest.mark.parametrize(("form", "example", "path"), FIELDS, ids=lambda v: "/".join(v) if isinstance(v, tuple)
                         else v if isinstance(v, str) else "")
@pytest.mark.parametrize("complete", [True, False])
def test_fields_read_alike(form: str, example: dict[str, object], path: tuple[str, ...], complete: bool) -> None:
    for text in EDGES:
        doc = copy.deepcopy(example)
        node = doc
        for key in path[:-1]:
            node = node[key]  # type: ignore[index,assignment]
        node[path[-1]] = text  # type: ignore[index]
        errors = forms.validate(form, doc, complete=complete)
        assert {(e.pointer, e.code) for e in errors} == reference_codes(form, doc, complete), text
