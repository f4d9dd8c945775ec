"""Turning untrusted text into a payload: size limit, nesting limit, strict JSON.

Limits (documented in docs/forms.md): a payload is at most ``MAX_BYTES`` (1 MiB) of UTF-8 JSON — files travel
as attachments referenced by hash, never inline — and at most ``MAX_DEPTH`` (32) levels deep; the deepest form
needs fewer than 8. Duplicate keys and NaN/Infinity are refused because a signed document must mean one thing
only.
"""

from __future__ import annotations

import json
from typing import Any

from engine.forms._errors import MESSAGES, FormError, InvalidDocument
from engine.i18n import check_language, translate

MAX_BYTES = 1_048_576
MAX_DEPTH = 32


class _Refused(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Refused("duplicate_key", key=json.dumps(key, ensure_ascii=False))
        obj[key] = value
    return obj


def _constant(name: str) -> Any:
    raise _Refused("invalid_number", value=name)


def depth(value: Any) -> int:
    """Nesting depth without recursion (a scalar is 0, ``[]`` is 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children)
    return deepest


def parse_json(
    text: str | bytes, *, lang: str = "en", max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
    walk_depth: bool = True,
) -> object:
    """Parse a JSON document or raise :class:`InvalidDocument` with one localized :class:`FormError`.
    ``walk_depth=False`` leaves the nesting limit to the caller's own walk of the value (the C parser still
    refuses what would exhaust its recursion)."""
    lang = check_language(lang)
    try:
        return _parse(text, max_bytes, max_depth, walk_depth=walk_depth)
    except _Refused as refused:
        message = translate(lang, MESSAGES[refused.code]).format(**refused.params)
        raise InvalidDocument([FormError("", refused.code, message)]) from None


def _parse(text: str | bytes, max_bytes: int, max_depth: int, *, walk_depth: bool = True) -> object:
    """``walk_depth=False``: the caller checks the depth in a walk of its own (``accept_document``)."""
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > max_bytes:
        raise _Refused("too_large", size=size, limit=max_bytes)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")  # tolerate a BOM written by some editors
        except UnicodeDecodeError:
            raise _Refused("not_utf8") from None
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise _Refused("malformed_json", line=e.lineno, column=e.colno, reason=e.msg) from None
    except RecursionError:
        # The C parser gives up long before memory does; either way the document is far too deep.
        raise _Refused("too_deep", limit=max_depth) from None
    if walk_depth and depth(value) > max_depth:
        raise _Refused("too_deep", limit=max_depth)
    return value
