"""Named guard predicates referenced by the lifecycle table.

A guard returns None when it holds, or the specific error that explains why not. They are pure: they see the case
as loaded, the acting user and the action's payload, and touch nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import (
    ExhortoError,
    ForeignCase,
    FormInvalid,
    GuardFailed,
    InstrumentNotApplicable,
    JudicialValidationRequired,
    ReasonsRequired,
    RefusalGroundsRequired,
    ReportTypeMismatch,
    SelfApproval,
)
from engine.lifecycle import Role, Transition
from engine.store.models import Case


@dataclass(frozen=True)
class Actor:
    """Who performs an action: a user, or the engine acting for an authority on a counterpart's message."""

    username: str
    authority_code: str
    role: Role
    language: str = "en"

    @classmethod
    def system(cls, authority_code: str, on_behalf_of: str = "engine") -> Actor:
        return cls(username=f"system:{on_behalf_of}", authority_code=authority_code, role=Role.SYSTEM)


@dataclass(frozen=True)
class GuardContext:
    case: Case
    actor: Actor
    transition: Transition
    payload: Mapping[str, Any]
    # Users who created, edited or submitted the draft since it was last sent back (from the audit trail);
    # filled only for the actions that have the four-eyes guard.
    drafters: frozenset[str] = frozenset()


Guard = Callable[[GuardContext], ExhortoError | None]


def owner_acts(ctx: GuardContext) -> ExhortoError | None:
    """Only the authority that owns the case record may act on it."""
    if ctx.actor.authority_code != ctx.case.authority_code:
        return ForeignCase(case=ctx.case.reference)
    return None


def four_eyes(ctx: GuardContext) -> ExhortoError | None:
    """The approver is a judge or supervisor (role column) who neither created, edited since it was last sent
    back, nor submitted the draft."""
    involved = {ctx.case.created_by, ctx.case.submitted_by, *ctx.drafters}
    if ctx.actor.username in involved:
        return SelfApproval(user=ctx.actor.username)
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def reasons_given(ctx: GuardContext) -> ExhortoError | None:
    """A non-empty statement of reasons is given."""
    if not _text(ctx.payload.get("reasons")):
        return ReasonsRequired(action=ctx.transition.action)
    return None


def refusal_grounds_given(ctx: GuardContext) -> ExhortoError | None:
    """At least one refusal ground from the list and a statement of reasons are given."""
    grounds = ctx.payload.get("grounds")
    if not isinstance(grounds, list) or not grounds or not _text(ctx.payload.get("reasons")):
        return RefusalGroundsRequired()
    return None


def form_valid(ctx: GuardContext) -> ExhortoError | None:
    """The case's request form is complete and valid against the full schema it was stored under."""
    from engine import forms

    errors = forms.validate(ctx.case.schema_id or "request", ctx.case.payload, complete=True,
                            lang=ctx.actor.language)
    return FormInvalid(form="request", errors=errors) if errors else None


def _request_field(ctx: GuardContext, *path: str) -> Any:
    value: Any = ctx.case.payload
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def instrument_fits_states(ctx: GuardContext) -> ExhortoError | None:
    """The legal basis applies between the two States (an EIO only between Member States bound by it)."""
    from engine import forms

    instrument = _request_field(ctx, "legal_basis", "instrument")
    requesting = _request_field(ctx, "requesting_authority", "country")
    requested = _request_field(ctx, "requested_authority", "country")
    if not (isinstance(instrument, str) and isinstance(requesting, str) and isinstance(requested, str)):
        return None  # form_valid reports what is missing
    if not forms.instrument_applies(instrument, requesting, requested):
        return InstrumentNotApplicable(instrument=instrument, requesting=requesting, requested=requested)
    return None


def judicial_validation(ctx: GuardContext) -> ExhortoError | None:
    """EIO, Art. 2(c)(ii) and Annex A section L: an order issued by an authority that is not a judge, court,
    investigating judge or public prosecutor is approved by a judge, for the validating judicial authority recorded
    in section L (the schema requires that section in this case)."""
    if _request_field(ctx, "legal_basis", "instrument") != "EIO":
        return None
    if _request_field(ctx, "issuing_authority_type") != "other_competent_authority":
        return None
    if ctx.actor.role != Role.JUDGE or not isinstance(_request_field(ctx, "validation", "signature"), Mapping):
        return JudicialValidationRequired()
    return None


def _report_type(expected: str) -> Guard:
    def guard(ctx: GuardContext) -> ExhortoError | None:
        if ctx.payload.get("report_type") != expected:
            return ReportTypeMismatch(action=ctx.transition.action, expected=expected)
        return None

    guard.__doc__ = f"The execution report is {expected}."
    return guard


GUARDS: dict[str, Guard] = {
    "owner_acts": owner_acts,
    "four_eyes": four_eyes,
    "reasons_given": reasons_given,
    "refusal_grounds_given": refusal_grounds_given,
    "form_valid": form_valid,
    "instrument_fits_states": instrument_fits_states,
    "judicial_validation": judicial_validation,
    "report_is_partial": _report_type("partial"),
    "report_is_final": _report_type("final"),
}

# Checked on every action, before the row's own guards.
UNIVERSAL_GUARDS: tuple[str, ...] = ("owner_acts",)


def check(names: tuple[str, ...], ctx: GuardContext) -> None:
    for name in names:
        problem = GUARDS[name](ctx)
        if problem is not None:
            raise problem
    return None


__all__ = ["GUARDS", "UNIVERSAL_GUARDS", "Actor", "GuardContext", "GuardFailed", "check"]
