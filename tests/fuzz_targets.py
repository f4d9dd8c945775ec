"""Hypothesis strategies shared by the bounded fuzz tests (tests/security/test_fuzz.py) and bench/fuzz.py."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import strategies as st

_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**53), max_value=2**53),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))


def json_values(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    return st.recursive(_scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=15), inner, max_size=6)),
        max_leaves=max_leaves)


_ids = st.one_of(st.uuids().map(str), st.text(max_size=50))
_codes = st.sampled_from(["ES-MJ", "CO-FGN", "XX-NOPE", "", "es-mj"])


# What a hostile sender adds: integers beyond what JSON numbers carry exactly, non-finite floats, lone surrogates.
_hostile_scalars = st.one_of(_scalars, st.integers(), st.floats(), st.text(alphabet=st.characters(), max_size=10),
                             st.sampled_from([2**53, -(2**53), 2**64, float("inf"), "\ud800"]))


def hostile_json_values(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    return st.recursive(_hostile_scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=15), inner, max_size=6)),
        max_leaves=max_leaves)


def nested(depth: int) -> bytes:
    """A JSON document ``depth`` levels deep, built as text (Python's own encoder would recurse)."""
    return b'{"a": ' * depth + b"1" + b"}" * depth


def transmissions(values: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Plausible and implausible transmissions: right shape with random values, missing or extra fields."""
    envelope = st.fixed_dictionaries(
        {"exchange_id": _ids, "message_id": _ids,
         "kind": st.sampled_from(["request", "acknowledgement", "refusal", "bogus"]),
         "from": _codes, "to": _codes, "sent_at": st.text(max_size=30),
         "schema_id": st.one_of(st.none(), st.text(max_size=40)),
         "payload": json_values() if values is None else values,
         "attachments": st.lists(st.fixed_dictionaries({"name": st.text(max_size=10),
                                                        "sha256": st.text(max_size=64),
                                                        "size": st.integers()}), max_size=2)},
        optional={"extra": json_values(3)})
    signature = st.fixed_dictionaries({"alg": st.sampled_from(["Ed25519", "none", ""]),
                                       "key_id": st.text(max_size=30),
                                       "value": st.binary(min_size=0, max_size=64).map(
                                           lambda b: base64.urlsafe_b64encode(b).decode())})
    return st.fixed_dictionaries({"envelope": st.one_of(envelope, json_values(5)), "signature": signature},
                                 optional={"contents": st.dictionaries(st.text(max_size=64),
                                                                       st.text(max_size=20), max_size=2)})
