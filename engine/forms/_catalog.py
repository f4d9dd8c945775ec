"""The schema catalogue: every file under ``forms/schemas/``, addressed by form name or versioned ``$id``.

``forms/schemas/<form>.schema.json`` is the current version of a form; older versions stay in
``forms/schemas/versions/<form>.v<N>.schema.json`` forever, because stored payloads record the ``$id`` they
were validated against and must keep validating (and rendering) under that exact version. References between
schemas are resolved from this catalogue only: a ``$ref`` to anything else fails instead of fetching it over
the network.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from engine.forms._errors import UnknownForm

BASE_URI = "https://exhorto.eu/schemas/"
ID_PATTERN = re.compile(r"^https://exhorto\.eu/schemas/(?P<name>[a-z_]+)/v(?P<version>[1-9][0-9]*)$")
SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "forms" / "schemas"

FORMS: tuple[str, ...] = (
    "request",
    "acknowledgement",
    "clarification_request",
    "clarification_answer",
    "refusal",
    "postponement",
    "execution_report",
    "withdrawal",
    "closure",
)


def _no_network(uri: str) -> Resource[Any]:
    # Called by the registry for any URI it does not hold: refuse rather than fetch.
    raise NoSuchResource(ref=uri)


class SchemaCatalog:
    """All schemas of one directory, with a registry that resolves ``$ref`` between them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.schemas: dict[str, dict[str, Any]] = {}
        self.current: dict[str, str] = {}
        for path in sorted(directory.rglob("*.schema.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            match = ID_PATTERN.match(schema.get("$id", ""))
            if match is None:
                raise ValueError(f"{path}: $id must look like {BASE_URI}<name>/v<N>")
            if schema["$id"] in self.schemas:
                raise ValueError(f"{path}: duplicate $id {schema['$id']}")
            self.schemas[schema["$id"]] = schema
            if path.parent == directory:
                self.current[match["name"]] = schema["$id"]
        self.registry: Registry[Any] = (
            Registry(retrieve=_no_network)
            .with_resources(  # type: ignore[call-arg]
                (sid, DRAFT202012.create_resource(schema)) for sid, schema in self.schemas.items()
            )
            .crawl()
        )

    @property
    def forms(self) -> tuple[str, ...]:
        known = [f for f in FORMS if f in self.current]
        return tuple(known + sorted(n for n in self.current if n not in FORMS and n != "common"))

    def schema_id(self, form_or_id: str) -> str:
        """The ``$id`` for a form name (current version) or a known ``$id`` (that exact version)."""
        if form_or_id in self.schemas:
            return form_or_id
        if form_or_id in self.current and form_or_id != "common":
            return self.current[form_or_id]
        raise UnknownForm(form=form_or_id, known=", ".join(self.forms))

    def load(self, form_or_id: str) -> dict[str, Any]:
        return self.schemas[self.schema_id(form_or_id)]

    def versions(self, form: str) -> list[str]:
        """Every stored ``$id`` of a form, oldest first."""
        ids = [
            (int(m["version"]), sid)
            for sid in self.schemas
            if (m := ID_PATTERN.match(sid)) and m["name"] == form
        ]
        return [sid for _, sid in sorted(ids)]


@cache
def default_catalog() -> SchemaCatalog:
    return SchemaCatalog(SCHEMAS_DIR)
