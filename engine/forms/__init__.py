"""The forms catalogue: JSON Schemas (Draft 2020-12) for every message of an exchange, and their validation.

>>> from engine import forms
>>> forms.validate("request", {}, complete=False)
[]
>>> [e.code for e in forms.validate("refusal", {"grounds": []}, lang="es")][:1]
['min_items']
"""

from __future__ import annotations

from typing import Any

from engine.forms._boundary import accept_document, check_payload, check_value, size_refused, too_large
from engine.forms._catalog import FORMS, SchemaCatalog, default_catalog
from engine.forms._errors import FormError, InvalidDocument, UnknownForm
from engine.forms._parse import MAX_BYTES, MAX_DEPTH, parse_json
from engine.forms._profiles import (
    Profile,
    default_instrument,
    instrument_applies,
    profile_for_instrument,
    profile_of,
    profiles,
)
from engine.forms._validate import Validation, default_validation, to_pointer

__all__ = [
    "FORMS",
    "FormError",
    "InvalidDocument",
    "MAX_BYTES",
    "MAX_DEPTH",
    "Profile",
    "SchemaCatalog",
    "UnknownForm",
    "Validation",
    "accept_document",
    "check_payload",
    "check_value",
    "default_instrument",
    "instrument_applies",
    "is_valid",
    "load_schema",
    "parse_json",
    "profile_for_instrument",
    "profile_of",
    "profiles",
    "schema_id",
    "size_refused",
    "to_pointer",
    "too_large",
    "validate",
    "versions",
]


def schema_id(form: str) -> str:
    """The ``$id`` of the current version of ``form`` (a known ``$id`` is returned as is)."""
    return default_catalog().schema_id(form)


def load_schema(form_or_id: str) -> dict[str, Any]:
    """The schema for a form name (current version) or an exact ``$id`` (that version); do not mutate."""
    return default_catalog().load(form_or_id)


def versions(form: str) -> list[str]:
    """Every stored ``$id`` of ``form``, oldest first."""
    return default_catalog().versions(form)


def validate(form_or_id: str, payload: object, *, complete: bool = True, lang: str = "en") -> list[FormError]:
    """All problems of ``payload`` as localized :class:`FormError` values; ``[]`` when it is valid.

    ``complete=False`` is for saving drafts: only what is present is checked. Raises only :class:`UnknownForm`
    (and :class:`engine.i18n.UnsupportedLanguage` for a bad ``lang``), never for a bad payload.
    """
    return default_validation().validate(form_or_id, payload, complete=complete, lang=lang)


def is_valid(form_or_id: str, payload: object, *, complete: bool = True) -> bool:
    return not validate(form_or_id, payload, complete=complete)
