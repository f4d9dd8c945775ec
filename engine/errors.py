"""The error tree. Every error knows how to say itself in es/pt/en/fr.

::

    ExhortoError
    ├── NotFound                      (CaseNotFound, AuthorityNotFound, UserNotFound, MessageNotFound)
    │   └── ForeignCase               (a CaseNotFound) another authority's case: worded as "does not exist"
    ├── InvalidInput                  a field of an input is wrong (which field, why)
    ├── TransitionRefused             the lifecycle does not allow the action
    │   ├── UnknownAction
    │   ├── ActionNotAllowedInState
    │   ├── WrongSide
    │   ├── RoleNotAllowed
    │   └── GuardFailed               (SelfApproval, ReasonsRequired, RefusalGroundsRequired, FormInvalid, …)
    ├── Conflict
    │   ├── StaleVersion              optimistic lock lost
    │   └── DuplicateEntry
    └── MessageRejected               an inbound message failed verification (reason code)

Messages are English msgids with named ``{placeholders}``; :meth:`ExhortoError.message` translates them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from engine.i18n import N_, translate


class ExhortoError(Exception):
    code: ClassVar[str] = "error"
    template: ClassVar[str] = N_("Unexpected error.")

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        return translate(lang, self.template).format(**self.params)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"code": self.code, "message": self.message(lang), **{k: _plain(v) for k, v in self.params.items()}}


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None) | list | dict) else str(value)


# --- not found -------------------------------------------------------------------------------------------------
class NotFound(ExhortoError):
    code = "not_found"
    template = N_("Not found.")


class CaseNotFound(NotFound):
    code = "case_not_found"
    template = N_("Case {case} does not exist.")


class AuthorityNotFound(NotFound):
    code = "authority_not_found"
    template = N_("Authority {authority} is not registered.")


class UserNotFound(NotFound):
    code = "user_not_found"
    template = N_("User {user} does not exist.")


class MessageNotFound(NotFound):
    code = "message_not_found"
    template = N_("Message {message} does not exist.")


class ForeignCase(CaseNotFound):
    """Another authority's case. Says exactly what :class:`CaseNotFound` says (same code, same words, the
    identifier as asked): its existence is never confirmed, on any channel."""


class InvalidInput(ExhortoError):
    code = "invalid_input"
    template = N_("Invalid value for {field}: {reason}")


# --- lifecycle ---------------------------------------------------------------------------------------------------
class TransitionRefused(ExhortoError):
    code = "transition_refused"
    template = N_("The action is not allowed.")


class UnknownAction(TransitionRefused):
    code = "unknown_action"
    template = N_("Unknown action {action}. Known actions: {known}.")


class ActionNotAllowedInState(TransitionRefused):
    code = "action_not_allowed_in_state"
    template = N_("Action {action} is not allowed while the case is in state {state}. Allowed now: {allowed}.")


class WrongSide(TransitionRefused):
    code = "wrong_side"
    template = N_("Action {action} belongs to the {expected} side; this case is on the {side} side.")


class RoleNotAllowed(TransitionRefused):
    code = "role_not_allowed"
    template = N_("Role {role} may not perform {action}; allowed roles: {allowed}.")


class GuardFailed(TransitionRefused):
    code = "guard_failed"
    template = N_("Condition {guard} is not met for {action}.")


class SelfApproval(GuardFailed):
    code = "self_approval"
    template = N_("Four-eyes rule: {user} created, edited or submitted this draft and cannot also approve it.")


class ReasonsRequired(GuardFailed):
    code = "reasons_required"
    template = N_("Action {action} requires reasons: give a non-empty 'reasons' text.")


class RefusalGroundsRequired(GuardFailed):
    code = "refusal_grounds_required"
    template = N_("A refusal requires at least one ground from the list and a statement of reasons.")


class ReportTypeMismatch(GuardFailed):
    code = "report_type_mismatch"
    template = N_("Action {action} requires an execution report of type {expected}.")


class JudicialValidationRequired(GuardFailed):
    code = "judicial_validation_required"
    template = N_(
        "This European Investigation Order was issued by an authority that is not a judge, court, investigating "
        "judge or public prosecutor: it must be approved by a judge of the validating judicial authority recorded "
        "in section L."
    )


class InstrumentNotApplicable(GuardFailed):
    code = "instrument_not_applicable"
    template = N_(
        "The legal basis {instrument} does not apply between {requesting} and {requested}: a European Investigation "
        "Order is only issued between two Member States bound by Directive 2014/41/EU."
    )


class FormInvalid(GuardFailed):
    code = "form_invalid"
    template = N_("The {form} form is not complete or not valid ({count} errors).")

    def __init__(self, *, form: str, errors: list[Any]) -> None:
        self.errors = errors
        super().__init__(form=form, count=len(errors))

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {**super().as_dict(lang), "errors": [e.as_dict() for e in self.errors]}


# --- conflicts ---------------------------------------------------------------------------------------------------
class Conflict(ExhortoError):
    code = "conflict"
    template = N_("Conflicting update.")


class StaleVersion(Conflict):
    code = "stale_version"
    template = N_("Case {case} was changed by someone else (your version {expected}, current {actual}). "
                  "Reload it and try again.")


class DuplicateEntry(Conflict):
    code = "duplicate"
    template = N_("{entity} {key} already exists.")


# --- transmission ------------------------------------------------------------------------------------------------
class MessageRejected(ExhortoError):
    code = "message_rejected"
    template = N_("Message rejected ({reason}): {detail}")


# --- statistics (disclosure control) -----------------------------------------------------------------------------
class NotCalendarPeriod(InvalidInput):
    code = "not_calendar_period"
    template = N_("Invalid value for {field}: statistics cover a calendar year, quarter or month only "
                  "(for example 2026, 2026-Q2 or 2026-05), not {value}.")


class MinGroupBelowPolicy(InvalidInput):
    code = "min_group_below_policy"
    template = N_("Invalid value for {field}: the smallest published group of {authority} is {policy}; "
                  "a larger value may be asked for, never a smaller one.")


class StatisticsNotAllowed(RoleNotAllowed):
    code = "statistics_not_allowed"
    template = N_("{user} may not read the statistics of {authority}: only its own users, and an observatory "
                  "it reports to, may.")
