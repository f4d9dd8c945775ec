"""RFC 8785 canonical JSON and the hashes computed over it."""

from __future__ import annotations

import hashlib
import json
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


def _plain(value: Any) -> bool:
    """True when the value holds only what ``json.dumps`` prints exactly as RFC 8785 does: strings, safe integers,
    booleans, null, lists, and objects whose keys sort the same by code point as by UTF-16 unit (no key above
    U+D7FF). Floats and anything unusual take the library's path."""
    if value is None or isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -_MAX_EXACT_INT < value < _MAX_EXACT_INT
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and (not k or max(k) <= "\ud7ff") and _plain(v) for k, v in value.items())
    return False


def canonical_json(value: Any) -> bytes:
    value = _jsonable(value)
    if _plain(value):
        try:  # the hot path (audit events, envelopes): the C encoder, byte-identical for such values
            return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: let the library report them
            pass
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_hash(payload: Any) -> str:
    return sha256_hex(canonical_json(payload))
