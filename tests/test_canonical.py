"""The fast path of canonical_json is byte-identical to the rfc8785 library for every value it accepts."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.canonical import canonical_json

scalars = st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | st.text() | st.floats(
    allow_nan=False, allow_infinity=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner,
                                                                                             max_size=5),
                      max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_bytes_as_the_rfc8785_library(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # noqa: BLE001 - values the library refuses are not ours to accept either
        return
    assert canonical_json(value) == expected


def test_keys_sort_by_utf16_units_and_controls_escape_like_ecmascript() -> None:
    value = {"\U0001f600": 1, "\uff61": 2, "a": "\u0000\u001f\b\t\n\f\r\"\\\u2028é"}
    assert canonical_json(value) == rfc8785.dumps(value)
