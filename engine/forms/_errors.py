"""Error values of the forms catalogue.

::

    FormError                 one problem in a payload: (pointer, code, message) — a value, not an exception
    ExhortoError
    ├── UnknownForm           a form name or schema $id that the catalogue does not hold
    └── InvalidDocument       the text could not become a payload at all (malformed, too large, too deep)

A payload that parses but breaks the schema is *not* an exception: :func:`engine.forms.validate` returns the
list of :class:`FormError` so a clerk sees every problem at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import ExhortoError
from engine.i18n import N_


@dataclass(frozen=True, slots=True)
class FormError:
    pointer: str  # RFC 6901 JSON Pointer into the payload ("" = the whole document)
    code: str
    message: str  # already localized

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class UnknownForm(ExhortoError):
    code = "unknown_form"
    template = N_("Unknown form {form}. Known forms: {known}.")


class InvalidDocument(ExhortoError):
    """The input is not a JSON document we accept; nothing was stored."""

    code = "invalid_document"
    template = N_("The document was not accepted: {detail}")

    def __init__(self, errors: list[FormError]) -> None:
        self.errors = errors
        super().__init__(detail=" ".join(e.message for e in errors))

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {**super().as_dict(lang), "errors": [e.as_dict() for e in self.errors]}


# Message templates per error code. English msgids, translated at the moment the error is built.
MESSAGES: dict[str, str] = {
    "required": N_("“{field}” is required."),
    "type": N_("“{field}” must be {expected}."),
    "enum": N_("“{field}” must be one of: {allowed}."),
    "format": N_("“{field}” is not a valid {format}."),
    "pattern": N_("“{field}” does not have the expected form."),
    "min_length": N_("“{field}” must not be empty."),
    "max_length": N_("“{field}” is too long (at most {limit} characters)."),
    "min_items": N_("“{field}” needs at least {limit} entries."),
    "min_items_one": N_("“{field}” needs at least one entry."),
    "max_items": N_("“{field}” accepts at most {limit} entries."),
    "unique_items": N_("“{field}” contains the same entry twice."),
    "minimum": N_("“{field}” must be at least {limit}."),
    "maximum": N_("“{field}” must be at most {limit}."),
    "unknown_field": N_("“{field}” is not a field of this form."),
    "invalid": N_("“{field}” is not valid."),
    "malformed_json": N_("The document is not valid JSON (line {line}, column {column}): {reason}."),
    "not_utf8": N_("The document is not UTF-8 text."),
    "too_large": N_("The document is too large ({size} bytes; the limit is {limit} bytes)."),
    "too_deep": N_("The document is nested too deeply (more than {limit} levels)."),
    "duplicate_key": N_("The key {key} appears twice in the same object."),
    "invalid_number": N_("The document contains a number that JSON does not allow ({value})."),
    "number_range": N_("The number at {field} cannot be carried exactly: whole numbers must lie within "
                       "±9007199254740991 and numbers must be finite."),
    "not_object": N_("The document must be a JSON object (fields between braces)."),
}

# Names of JSON types and formats as shown to users.
TYPE_NAMES: dict[str, str] = {
    "object": N_("a group of fields"),
    "array": N_("a list"),
    "string": N_("a text"),
    "integer": N_("a whole number"),
    "number": N_("a number"),
    "boolean": N_("yes or no"),
    "null": N_("empty"),
}
FORMAT_NAMES: dict[str, str] = {
    "date": N_("date (YYYY-MM-DD)"),
    "date-time": N_("date and time (RFC 3339)"),
    "email": N_("email address"),
    "uri": N_("URI"),
    "iso3166-alpha2": N_("ISO 3166-1 country code"),
    "iso639-1": N_("ISO 639-1 language code"),
    "iso4217": N_("ISO 4217 currency code"),
}
# Label of the whole document when the error is at the root.
DOCUMENT = N_("The document")
