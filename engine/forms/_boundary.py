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
    lang = check_language(lang)
    stack: list[tuple[Any, Any, int]] = [(value, None, 0)]
    while stack:
        node, path, level = stack.pop()
        if isinstance(node, bool) or node is None:
            continue
        if isinstance(node, int):
            if not -MAX_SAFE_INTEGER <= node <= MAX_SAFE_INTEGER:
                raise _refuse("number_range", _pointer(path), lang, field=_pointer(path))
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise _refuse("number_range", _pointer(path), lang, field=_pointer(path))
        elif isinstance(node, str):
            if not node.isascii():
                _check_text(node, path, lang)
        elif isinstance(node, dict | list):
            if level + 1 > max_depth:
                raise _refuse("too_deep", _pointer(path), lang, limit=max_depth)
            if isinstance(node, dict):
                for key, child in node.items():
                    if not (isinstance(key, str) and key.isascii()):
                        _check_text(str(key), path, lang)
                    stack.append((child, (path, key), level + 1))
            else:
                stack.extend((child, (path, index), level + 1) for index, child in enumerate(node))
        else:
            raise _refuse("invalid", _pointer(path), lang, field=_pointer(path))


def _check_text(text: str, path: Any, lang: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse("not_utf8", _pointer(path), lang) from None


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
    """Steps 1–7 for untrusted text (a file, a request body): the payload, or :class:`InvalidDocument`."""
    value = parse_json(text, lang=lang, max_bytes=max_bytes, max_depth=max_depth)
    check_value(value, lang=lang, max_depth=max_depth)
    if not isinstance(value, dict):
        raise _refuse("not_object", "", check_language(lang))
    return value


def size_refused(size: int, limit: int, lang: str = "en") -> InvalidDocument:
    """The refusal for a body known to be too large before it is read whole."""
    return _refuse("too_large", "", check_language(lang), size=size, limit=limit)


def too_large(error: InvalidDocument) -> bool:
    return any(e.code == "too_large" for e in error.errors)
