"""``accept_document`` checks nesting, numbers and text in one walk of the parsed value (issue 19: every API
request body goes through it). Its answer is the one of the steps taken one after the other: the parser with its
own depth check (a too-deep document refused at the root), then ``check_value``, then the object test."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import forms
from engine.forms import InvalidDocument


def in_steps(text: str, max_depth: int) -> Any:
    """The answer of the steps taken one by one: the value, or the refusal's (pointer, code, message)."""
    try:
        value = forms.parse_json(text, max_depth=max_depth)
        forms.check_value(value, max_depth=max_depth)
        if not isinstance(value, dict):
            return "not_object"
        return value
    except InvalidDocument as refused:
        return [(e.pointer, e.code, e.message) for e in refused.errors]


def in_one_walk(text: str, max_depth: int) -> Any:
    try:
        return forms.accept_document(text, max_depth=max_depth)
    except InvalidDocument as refused:
        if refused.errors[0].code == "not_object":
            return "not_object"
        return [(e.pointer, e.code, e.message) for e in refused.errors]


scalars = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False)
           | st.text(max_size=6) | st.sampled_from(["\ud800", "é", "a\udfffb", 2**53, -(2**53), 1e308]))
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                      | st.dictionaries(st.text(max_size=4) | st.sampled_from(["\udc80", "ñ"]), children,
                                        max_size=3), max_leaves=30)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values, max_depth=st.integers(1, 5))
def test_one_walk_answers_as_the_steps_in_turn(value: Any, max_depth: int) -> None:
    text = json.dumps(value, allow_nan=True)  # lone surrogates written as escapes, infinities as literals
    assert in_one_walk(text, max_depth) == in_steps(text, max_depth)


def test_too_deep_wins_over_an_earlier_refusal() -> None:
    text = json.dumps({"a": 2**60, "b": [[[[1]]]]})
    assert in_one_walk(text, 3) == in_steps(text, 3) == [("", "too_deep", in_steps(text, 3)[0][2])]
    assert in_one_walk(text, 8)[0][:2] == ("/a", "number_range")
