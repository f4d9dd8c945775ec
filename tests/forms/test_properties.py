"""Property-based: random and mutated documents never make the validator raise, every error points into the
document, and the engine's validator (jsonschema-rs) agrees with jsonschema, the reference, on validity and on
every (pointer, code) it reports."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import forms
from engine.forms._validate import default_validation
from tests.forms.conftest import EXAMPLES, load, valid_examples
from tests.forms.reference import reference_codes

EXAMPLE_DOCS = [(p.parent.name, load(p)) for p in valid_examples()]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "urgent", "CO", "es", "2026-12-31", "other", "07041", "x@y.z"])
    # Where two regular-expression engines or two RFC 3339 readers could differ.
    | st.sampled_from(["CO\n", "es\n", "2026-12-31\n", "2024-02-29", "2026-02-29", "2026-12-31T10:00:00z",
                      "2026-12-31t10:00:00+01:00", "2026-12-31T23:59:60Z", "2026-12-31T10:00:00.123456789Z",
                      "a b@c", "a@b@c", "https://e.x/a?b#c", "http://a b", "mailto:\x1f", "+34 91 123 45 67\n"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


def resolve(doc: Any, pointer: str) -> tuple[bool, bool]:
    """(parent exists, target exists) for an RFC 6901 pointer."""
    if pointer == "":
        return True, True
    assert pointer.startswith("/")
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
    node = doc
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return last and isinstance(node, dict), False
    return True, True


def check(form: str, doc: Any, complete: bool) -> None:
    errors = forms.validate(form, doc, complete=complete, lang="fr")
    for error in errors:
        assert isinstance(error, forms.FormError) and error.message
        parent, target = resolve(doc, error.pointer)
        # A missing required field points where it belongs (its parent exists); anything else is in the doc.
        assert target or (error.code == "required" and parent), error
    assert default_validation().compiled(form, complete).is_valid(doc) == (not errors)
    assert {(e.pointer, e.code) for e in errors} == reference_codes(form, doc, complete)


@SETTINGS
@given(form=st.sampled_from(forms.FORMS), doc=json_values, complete=st.booleans())
def test_random_documents(form: str, doc: Any, complete: bool) -> None:
    check(form, doc, complete)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    form, original = draw(st.sampled_from(EXAMPLE_DOCS))
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 4))):
        # Walk down to a random container, then replace, delete or add a member.
        node: Any = doc
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and draw(st.booleans()):
                node = child
                continue
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[key] = draw(json_values)
            elif action == "delete":
                del node[key]
            elif isinstance(node, dict):
                node[draw(st.text(max_size=8))] = draw(json_values)
            else:
                node.append(draw(json_values))
            break
    return form, doc


@SETTINGS
@given(case=mutated(), complete=st.booleans())
def test_mutated_examples(case: tuple[str, Any], complete: bool) -> None:
    check(*case, complete)


def test_example_dir_present() -> None:
    assert EXAMPLE_DOCS and EXAMPLES.is_dir()


@SETTINGS
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_parse_or_refuse(raw: bytes) -> None:
    try:
        doc = forms.parse_json(raw, lang="pt")
    except forms.InvalidDocument as refused:
        [error] = refused.errors
        assert error.pointer == "" and error.message
        return
    for form in ("request", "refusal"):
        check(form, doc, complete=True)


@SETTINGS
@given(doc=json_values)
def test_serialized_documents_roundtrip(doc: Any) -> None:
    import json

    text = json.dumps(doc)
    try:
        assert forms.parse_json(text) == doc
    except forms.InvalidDocument as refused:
        # Only depth or duplicate keys can refuse what json.dumps wrote.
        assert refused.errors[0].code in {"too_deep", "duplicate_key"}
