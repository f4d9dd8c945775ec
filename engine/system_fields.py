"""Fields of a request that the system knows: who asks, who is asked, and the references. They come from the case
record and the directory, never from what a user typed.

:func:`settle` fills them into a request payload and refuses a payload that says something else (a field error
naming the JSON Pointer), so a clerk of one authority cannot write a draft that names another authority as its
sender or carries a reference that is not the case's. The pointers are listed once, in :data:`SYSTEM_FIELDS`;
the web editor shows exactly these read-only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from engine.errors import FormInvalid
from engine.forms import FormError
from engine.i18n import N_, translate
from engine.lifecycle import Side
from engine.store.models import Authority, Case
from engine.store.queries import load_authority


@dataclass(frozen=True)
class Facts:
    """What the system knows about an exchange, from the case record and the directory."""

    reference: str | None  # the requesting authority's reference (the case's own, on the requesting side)
    counterpart_reference: str | None
    requesting: Authority
    requested: Authority


Source = Callable[[Facts], Any]

_REFERENCES: dict[str, Source] = {
    "/references/requesting": lambda facts: facts.reference,
    "/references/requested": lambda facts: facts.counterpart_reference,
}

# Form → JSON Pointer → where the value comes from. None means "not known yet": the payload must then leave the
# field out (a requested authority's reference exists only once it has registered the request). Every action form
# carries the two references; the acknowledgement also names the authority that received the request (the
# requested one). Other authority blocks (e.g. the acknowledgement's executing authority after a transfer) are not
# known to the system and stay the user's.
SYSTEM_FIELDS: dict[str, dict[str, Source]] = {
    "request": {
        "/requesting_authority/code": lambda facts: facts.requesting.code,
        "/requesting_authority/country": lambda facts: facts.requesting.country,
        "/requesting_authority/name": lambda facts: facts.requesting.name,
        "/requested_authority/code": lambda facts: facts.requested.code,
        "/requested_authority/country": lambda facts: facts.requested.country,
        "/requested_authority/name": lambda facts: facts.requested.name,
        **_REFERENCES,
    },
    "acknowledgement": {
        **_REFERENCES,
        "/receiving_authority/code": lambda facts: facts.requested.code,
        "/receiving_authority/country": lambda facts: facts.requested.country,
        "/receiving_authority/name": lambda facts: facts.requested.name,
    },
    **{form: dict(_REFERENCES) for form in ("clarification_request", "clarification_answer", "postponement",
                                           "execution_report", "refusal", "withdrawal", "closure")},
}


def pointers(form: str) -> frozenset[str]:
    """The pointers the system sets in ``form`` (a form name, or a schema id of any version of it)."""
    return frozenset(SYSTEM_FIELDS.get(form_name(form), {}))


def form_name(form: str) -> str:
    """``request`` for ``request`` and for ``https://exhorto.eu/schemas/request/v3``."""
    parts = form.rstrip("/").split("/")
    return parts[-2] if len(parts) > 2 and parts[-1].startswith("v") else parts[-1]


def facts_of(session: Session, case: Case) -> Facts:
    """What the case record and the directory say about the exchange ``case`` belongs to."""
    own, counterpart = load_authority(session, case.authority_code), load_authority(session, case.counterpart_code)
    if case.side == Side.REQUESTING:
        return Facts(case.reference, case.counterpart_reference, own, counterpart)
    # On the requested side the case's own reference is the requested one; the requesting one came with the request.
    return Facts(case.counterpart_reference, case.reference, counterpart, own)


CONTRADICTS = N_("“{field}” is set by the system ({expected}); the form says “{given}”.")
UNKNOWN_YET = N_("“{field}” is set by the system once it is known; leave it empty.")


def system_values(facts: Facts, form: str = "request") -> dict[str, Any]:
    """Pointer → value the system holds in ``form`` (None: not known yet)."""
    return {pointer: source(facts) for pointer, source in SYSTEM_FIELDS.get(form_name(form), {}).items()}


def settle(payload: Mapping[str, Any], values: Mapping[str, Any], *, lang: str = "en",
           form: str = "request") -> dict[str, Any]:
    """``payload`` with every system field set to ``values``; :class:`FormInvalid` listing each field whose
    given value differs from the system's. The payload passed in is not changed."""
    settled = copy.deepcopy(dict(payload))
    errors: list[FormError] = []
    for pointer, expected in values.items():
        *parents, leaf = pointer.strip("/").split("/")
        node: Any = settled
        for name in parents:
            child = node.get(name) if isinstance(node, dict) else None
            if child is None and expected is not None and isinstance(node, dict):
                child = node[name] = {}
            node = child
        if not isinstance(node, dict):
            continue  # a block of the wrong type: the schema names that error
        given = node.get(leaf)
        if given is not None and given != expected:
            template = UNKNOWN_YET if expected is None else CONTRADICTS
            message = translate(lang, template).format(field=pointer, expected=expected, given=given)
            errors.append(FormError(pointer, "system_field", message))
        elif expected is not None:
            node[leaf] = expected
    if errors:
        raise FormInvalid(form=form, errors=errors)
    return settled


def without_system_fields(payload: Mapping[str, Any], form: str | None = None) -> dict[str, Any]:
    """A copy of ``payload`` without the fields the system sets in ``form`` (by default: in any form), e.g. a
    prepared example, before the engine fills them for a given case."""
    stripped = copy.deepcopy(dict(payload))
    every = {pointer for fields in SYSTEM_FIELDS.values() for pointer in fields}
    for pointer in pointers(form) if form is not None else every:
        *parents, leaf = pointer.strip("/").split("/")
        node: Any = stripped
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return stripped


__all__ = ["SYSTEM_FIELDS", "Facts", "facts_of", "form_name", "pointers", "settle", "system_values",
           "without_system_fields"]
