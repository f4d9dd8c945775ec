"""The one input boundary: what every entry point (CLI, REST API, web UI, ``/inbox``) checks before a payload
reaches the engine, in this order, the first failure deciding the answer:

1. size         at most ``MAX_BYTES`` (1 MiB) of UTF-8 JSON                       ``too_large``  (HTTP 413)
2. UTF-8        bytes that are not UTF-8 text                                     ``not_utf8``
3. JSON         strict: no duplicate keys, no NaN/Infinity                        ``malformed_json`` …
4. depth        at most ``MAX_DEPTH`` levels                                      ``too_deep``
5. numbers      integers within ±(2^53−1), finite floats (RFC 8785 signs exactly these)  ``number_range``
6. text         no lone surrogates (they cannot be written as UTF-8)              ``not_utf8``
7. shape        an object at the top                                              ``not_object``

then the schema (``engine.forms.validate``), which the engine applies per form. A refusal is an
:class:`InvalidDocument` whose :class:`FormError` carries the JSON Pointer of the offending value: nothing is stored.
"""

from __future__ import annotations

import json
import math
from typing import Any

from engine.forms._errors import MESSAGES, FormError, InvalidDocument
from engine.forms._parse import MAX_BYTES, MAX_DEPTH, parse_json
from engine.i18n import check_language, translate

MAX_SAFE_INTEGER = 2**53 - 1


def _refuse(code: str, pointer: str, lang: str, **params: Any) -> InvalidDocument:
    message = translate(lang, MESSAGES[code]).format(**params)
    return InvalidDocument([FormError(pointer, code, message)])


def _token(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _pointer(path: Any) -> str:
    """The JSON Pointer of a path kept as nested (parent, key) pairs: built only for a refusal."""
    tokens: list[str] = []
    while path is not None:
        path, key = path
        tokens.append(_token(key))
    return "".join("/" + token for token in reversed(tokens)) or "/"


def check_value(value: Any, *, lang: str = "en", max_depth: int = MAX_DEPTH) -> None:
    """Steps 4–6 on an already parsed value, without recursion (a hostile document may be very deep). Every
    request body goes through it (twice on the API: the body, then the payload), so the pointer of a value is
    only spelled out when it is refused, and ASCII text (most of it) needs no encoding test."""
    refusal = _walk(value, check_language(lang), max_depth, deep_at_root=False)
    if refusal is not None:
        raise refusal


def _walk(value: Any, lang: str, max_depth: int, *, deep_at_root: bool) -> InvalidDocument | None:
    """The first refusal of steps 4–6 in one walk of ``value``. ``deep_at_root``: a document parsed from text,
    whose nesting is checked before anything else (step 4, refused at the root ``""`` as the parser refuses
    it): the walk goes on past a refusal of steps 5–6 until it knows the document is not too deep."""
    stack: list[tuple[Any, Any, int]] = [(value, None, 0)]
    first: InvalidDocument | None = None
    while stack:
        node, path, level = stack.pop()
        if isinstance(node, bool) or node is None:
            continue
        refusal = None
        if isinstance(node, int):
            if not -MAX_SAFE_INTEGER <= node <= MAX_SAFE_INTEGER:
                refusal = _refuse("number_range", _pointer(path), lang, field=_pointer(path))
        elif isinstance(node, float):
            if not math.isfinite(node):
                refusal = _refuse("number_range", _pointer(path), lang, field=_pointer(path))
        elif isinstance(node, str):
            if not node.isascii():
                refusal = _text_refused(node, path, lang)
        elif isinstance(node, dict | list):
            if level + 1 > max_depth:
                return _refuse("too_deep", "" if deep_at_root else _pointer(path), lang, limit=max_depth)
            if isinstance(node, dict):
                for key, child in node.items():
                    if refusal is None and not (isinstance(key, str) and key.isascii()):
                        refusal = _text_refused(str(key), path, lang)
                        if refusal is not None and not deep_at_root:
                            return refusal
                    stack.append((child, (path, key), level + 1))
            else:
                stack.extend((child, (path, index), level + 1) for index, child in enumerate(node))
        else:
            refusal = _refuse("invalid", _pointer(path), lang, field=_pointer(path))
        if refusal is not None:
            if not deep_at_root:
                return refusal
            first = first or refusal
    return first


def _text_refused(text: str, path: Any, lang: str) -> InvalidDocument | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _refuse("not_utf8", _pointer(path), lang)
    return None


def check_payload(value: Any, *, lang: str = "en", max_bytes: int = MAX_BYTES,
                  max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Steps 1 and 4–7 for a payload that arrived already parsed (API body, web form, Python caller)."""
    lang = check_language(lang)
    check_value(value, lang=lang, max_depth=max_depth)
    if not isinstance(value, dict):
        raise _refuse("not_object", "", lang)
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > max_bytes:
        raise _refuse("too_large", "", lang, size=size, limit=max_bytes)
    return value


def accept_document(text: str | bytes, *, lang: str = "en", max_bytes: int = MAX_BYTES,
                    max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Steps 1–7 for untrusted text (a file, a request body): the payload, or :class:`InvalidDocument`. Steps
    4–6 are one walk of the parsed value (every API request body comes through here)."""
    lang = check_language(lang)
    value = parse_json(text, lang=lang, max_bytes=max_bytes, max_depth=max_depth, walk_depth=False)
    refusal = _walk(value, lang, max_depth, deep_at_root=True)
    if refusal is not None:
        raise refusal
    if not isinstance(value, dict):
        raise _refuse("not_object", "", lang)
    return value


def size_refused(size: int, limit: int, lang: str = "en") -> InvalidDocument:
    """The refusal for a body known to be too large before it is read whole."""
    return _refuse("too_large", "", check_language(lang), size=size, limit=limit)


def too_large(error: InvalidDocument) -> bool:
    return any(e.code == "too_large" for e in error.errors)
