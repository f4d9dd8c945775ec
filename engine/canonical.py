"""RFC 8785 canonical JSON and the hashes computed over it."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

import rfc8785


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


_MAX_EXACT_INT = 2**53  # beyond this RFC 8785 prints the nearest IEEE double, not the integer
# Built once: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class _NotPlain(Exception):
    pass


def _plain(value: Any) -> Any:
    """``value`` made JSON-able, when it holds only what the stdlib encoder prints exactly as RFC 8785 does:
    strings, safe integers, booleans, null, lists, and objects whose keys sort the same by code point as by UTF-16
    unit (no key above U+D7FF). Raises :class:`_NotPlain` for floats and anything unusual (the library's path)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        if -_MAX_EXACT_INT < value < _MAX_EXACT_INT:
            return value
        raise _NotPlain
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dict):
        plain = {}
        for key, item in value.items():
            key = str(key)
            if key and max(key) > "\ud7ff":
                raise _NotPlain
            plain[key] = _plain(item)
        return plain
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    raise _NotPlain


def _already_plain(value: Any) -> bool:
    """Whether ``value`` is plain as it stands (exact built-in types, nothing to convert): then it is encoded without
    the copy :func:`_plain` makes (half the cost of canonicalising an envelope). Anything else takes that path."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_EXACT_INT < value < _MAX_EXACT_INT
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (key and max(key) > "\ud7ff") or not _already_plain(item):
                return False
        return True
    if kind is list:
        return all(_already_plain(item) for item in value)
    return False


_LEAVES = frozenset({str, bool, type(None)})
_WIDE = re.compile("[\ud800-\U0010ffff]")  # what sorts differently by code point and by UTF-16 unit
_STR_ONLY = frozenset({str})


def _narrow(text: str) -> bool:
    """No character above U+D7FF. Latin-1 text (Spanish, Portuguese, French: the usual case) is told by a C-speed
    encode; wider text is searched."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return _WIDE.search(text) is None
    return True


def _simple(value: Any) -> bool:
    """Whether ``value`` holds only built-in dicts with string keys, lists, strings, booleans, null and safe
    integers — checked a container at a time with C-level ``set(map(type, …))`` rather than a call per value
    (the per-value walk of :func:`_already_plain` was half the cost of signing an envelope, see bench/signing.py).
    Key *characters* are not looked at here: :func:`canonical_json` checks the encoded text once instead."""
    kind = type(value)
    if kind is dict:
        if not set(map(type, value)) <= _STR_ONLY:
            return False
        items: Any = value.values()
    elif kind is list:
        items = value
    else:
        return kind in _LEAVES or (kind is int and -_MAX_EXACT_INT < value < _MAX_EXACT_INT)
    if set(map(type, items)) <= _LEAVES:
        return True
    for item in items:
        kind = type(item)
        if kind in _LEAVES:
            continue
        if kind is int:
            if not -_MAX_EXACT_INT < item < _MAX_EXACT_INT:
                return False
        elif kind is not dict and kind is not list or not _simple(item):
            return False
    return True


def canonical_json(value: Any) -> bytes:
    try:
        if _simple(value):  # the hot path (audit events, envelopes): the C encoder as it stands
            text = _ENCODER.encode(value)
            # No character above U+D7FF anywhere, so none in a key: code point order is UTF-16 order (RFC 8785).
            if _narrow(text):
                return text.encode("utf-8")
        return _ENCODER.encode(value if _already_plain(value) else _plain(value)).encode("utf-8")
    except (_NotPlain, UnicodeEncodeError):  # floats, big integers, lone surrogates: the library decides
        return rfc8785.dumps(_jsonable(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_hash(payload: Any) -> str:
    return sha256_hex(canonical_json(payload))
