"""The forms catalogue: list, schemas, and validation with errors in the reader's language."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from engine import forms
from engine.api.deps import ActorDep, LangDep
from engine.api.schemas import FormErrorEntry, ValidationResult

router = APIRouter(prefix="/forms", tags=["forms"])


@router.get("", response_model=list[str])
def list_forms(actor: ActorDep) -> list[str]:
    return sorted(forms.FORMS)


@router.get("/{form}/schema", response_model=dict[str, Any])
def form_schema(form: str, actor: ActorDep) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of the current version of ``form``."""
    return forms.load_schema(form)


@router.post("/{form}/validate", response_model=ValidationResult)
def validate(form: str, actor: ActorDep, lang: LangDep, payload: Any = Body(...),
             complete: bool = True) -> ValidationResult:
    """Check a payload without saving it; errors are localized after Accept-Language.
    ``complete=false`` checks a draft (only what is present)."""
    errors = forms.validate(form, payload, complete=complete, lang=lang)
    return ValidationResult(form=form, schema_id=forms.schema_id(form), valid=not errors,
                            errors=[FormErrorEntry(pointer=e.pointer, code=e.code, message=e.message)
                                    for e in errors])
