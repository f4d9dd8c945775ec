"""The lifecycle of a request, as data.

One row per allowed move: in state ``from_state``, a user with one of ``roles`` on the ``side`` that owns the case
may perform ``action``; if every named guard holds, the case moves to ``to_state``. ``form`` names the schema the
action's payload must satisfy, ``sends`` the message kind that goes to the counterpart authority.

Rows whose role is ``system`` are applied by the engine itself when a message from the counterpart arrives
(``record_*``): the requesting side's record mirrors what the requested side does, and the other way round.
Nothing here does I/O; :mod:`engine.actions` applies the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.i18n import C_, N_


class Side(StrEnum):
    REQUESTING = "requesting"
    REQUESTED = "requested"


class Role(StrEnum):
    CLERK = "clerk"
    JUDGE = "judge"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    SYSTEM = "system"


class State(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    TRANSMITTED = "transmitted"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    CLARIFICATION_REQUESTED = "clarification_requested"
    REFUSED = "refused"
    IN_EXECUTION = "in_execution"
    POSTPONED = "postponed"
    PARTIALLY_EXECUTED = "partially_executed"
    EXECUTED = "executed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


STAGES: dict[str, tuple[State, ...]] = {
    N_("draft"): (State.DRAFT, State.PENDING_APPROVAL, State.APPROVED),
    N_("transmission"): (State.TRANSMITTED, State.DELIVERED),
    N_("acknowledgement"): (State.ACKNOWLEDGED, State.CLARIFICATION_REQUESTED, State.REFUSED),
    N_("execution"): (State.IN_EXECUTION, State.POSTPONED, State.PARTIALLY_EXECUTED, State.EXECUTED),
    N_("closure"): (State.CLOSED, State.WITHDRAWN),
}
TERMINAL_STATES = frozenset({State.CLOSED, State.WITHDRAWN})

STATE_LABELS: dict[State, str] = {
    State.DRAFT: N_("Draft"),
    State.PENDING_APPROVAL: N_("Pending approval"),
    State.APPROVED: N_("Approved"),
    State.TRANSMITTED: N_("Transmitted"),
    State.DELIVERED: N_("Delivered"),
    State.ACKNOWLEDGED: N_("Acknowledged"),
    State.CLARIFICATION_REQUESTED: N_("Clarification requested"),
    State.REFUSED: N_("Refused"),
    State.IN_EXECUTION: N_("In execution"),
    State.POSTPONED: N_("Postponed"),
    State.PARTIALLY_EXECUTED: C_("case state", "Partially executed"),
    State.EXECUTED: C_("case state", "Executed"),
    State.CLOSED: N_("Closed"),
    State.WITHDRAWN: N_("Withdrawn"),
}


@dataclass(frozen=True)
class Transition:
    from_state: State
    action: str
    to_state: State
    side: Side
    roles: frozenset[Role]
    guards: tuple[str, ...] = ()
    form: str | None = None
    sends: str | None = None


S = State
REQ, RQD = Side.REQUESTING, Side.REQUESTED
CLERK, JUDGE, SUPERVISOR, SYSTEM = Role.CLERK, Role.JUDGE, Role.SUPERVISOR, Role.SYSTEM
DECIDERS = frozenset({JUDGE, SUPERVISOR})
STAFF = frozenset({CLERK, JUDGE, SUPERVISOR})
BY_SYSTEM = frozenset({SYSTEM})

# States from which a transmitted request may still be withdrawn / in which the requested side learns of it.
_OPEN_AFTER_TRANSMISSION = (S.TRANSMITTED, S.DELIVERED, S.ACKNOWLEDGED, S.CLARIFICATION_REQUESTED,
                            S.POSTPONED, S.PARTIALLY_EXECUTED)
_OPEN_ON_REQUESTED_SIDE = (S.DELIVERED, S.ACKNOWLEDGED, S.CLARIFICATION_REQUESTED,
                           S.IN_EXECUTION, S.POSTPONED, S.PARTIALLY_EXECUTED)


def _rows() -> list[Transition]:
    T = Transition
    rows = [
        # ---- requesting side: drafting, approval, transmission --------------------------------------------
        T(S.DRAFT, "submit", S.PENDING_APPROVAL, REQ, frozenset({CLERK, JUDGE}),
          ("form_valid", "instrument_fits_states")),
        T(S.PENDING_APPROVAL, "send_back", S.DRAFT, REQ, DECIDERS, ("reasons_given",)),
        # An EIO issued by an "other competent authority" is validated by a judge (section L).
        T(S.PENDING_APPROVAL, "approve", S.APPROVED, REQ, DECIDERS, ("four_eyes", "form_valid", "judicial_validation")),
        T(S.APPROVED, "transmit", S.TRANSMITTED, REQ, STAFF, ("form_valid",), sends="request"),
        *(T(s, "withdraw", S.WITHDRAWN, REQ, DECIDERS, ("reasons_given",), form="withdrawal")
          for s in (S.DRAFT, S.PENDING_APPROVAL, S.APPROVED)),
        *(T(s, "withdraw", S.WITHDRAWN, REQ, DECIDERS, ("reasons_given",), form="withdrawal", sends="withdrawal")
          for s in _OPEN_AFTER_TRANSMISSION),
        T(S.CLARIFICATION_REQUESTED, "answer_clarification", S.ACKNOWLEDGED, REQ, STAFF, (),
          form="clarification_answer", sends="clarification_answer"),
        *(T(s, "close", S.CLOSED, REQ, DECIDERS, (), form="closure", sends="closure")
          for s in (S.EXECUTED, S.PARTIALLY_EXECUTED, S.REFUSED)),
        # ---- requesting side: what the counterpart's messages record -----------------------------------------
        T(S.TRANSMITTED, "record_delivery", S.DELIVERED, REQ, BY_SYSTEM),
        T(S.DELIVERED, "record_acknowledgement", S.ACKNOWLEDGED, REQ, BY_SYSTEM),
        *(T(s, "record_clarification_request", S.CLARIFICATION_REQUESTED, REQ, BY_SYSTEM)
          for s in (S.DELIVERED, S.ACKNOWLEDGED)),
        *(T(s, "record_refusal", S.REFUSED, REQ, BY_SYSTEM) for s in (S.DELIVERED, S.ACKNOWLEDGED)),
        *(T(s, "record_postponement", S.POSTPONED, REQ, BY_SYSTEM)
          for s in (S.ACKNOWLEDGED, S.PARTIALLY_EXECUTED)),
        *(T(s, "record_partial_execution", S.PARTIALLY_EXECUTED, REQ, BY_SYSTEM)
          for s in (S.ACKNOWLEDGED, S.POSTPONED, S.PARTIALLY_EXECUTED)),
        *(T(s, "record_execution", S.EXECUTED, REQ, BY_SYSTEM)
          for s in (S.ACKNOWLEDGED, S.POSTPONED, S.PARTIALLY_EXECUTED)),
        # ---- requested side -------------------------------------------------------------------------------
        T(S.DELIVERED, "acknowledge", S.ACKNOWLEDGED, RQD, STAFF, (), form="acknowledgement",
          sends="acknowledgement"),
        *(T(s, "request_clarification", S.CLARIFICATION_REQUESTED, RQD, STAFF, (),
            form="clarification_request", sends="clarification_request")
          for s in (S.DELIVERED, S.ACKNOWLEDGED)),
        T(S.CLARIFICATION_REQUESTED, "record_clarification_answer", S.ACKNOWLEDGED, RQD, BY_SYSTEM),
        *(T(s, "refuse", S.REFUSED, RQD, DECIDERS, ("refusal_grounds_given",), form="refusal", sends="refusal")
          for s in (S.DELIVERED, S.ACKNOWLEDGED)),
        T(S.ACKNOWLEDGED, "start_execution", S.IN_EXECUTION, RQD, DECIDERS),
        *(T(s, "postpone", S.POSTPONED, RQD, DECIDERS, ("reasons_given",), form="postponement",
            sends="postponement")
          for s in (S.IN_EXECUTION, S.PARTIALLY_EXECUTED)),
        T(S.POSTPONED, "resume_execution", S.IN_EXECUTION, RQD, DECIDERS),
        *(T(s, "report_partial_execution", S.PARTIALLY_EXECUTED, RQD, STAFF, ("report_is_partial",),
            form="execution_report", sends="execution_report")
          for s in (S.IN_EXECUTION, S.PARTIALLY_EXECUTED)),
        *(T(s, "report_execution", S.EXECUTED, RQD, STAFF, ("report_is_final",),
            form="execution_report", sends="execution_report")
          for s in (S.IN_EXECUTION, S.PARTIALLY_EXECUTED)),
        *(T(s, "record_withdrawal", S.WITHDRAWN, RQD, BY_SYSTEM) for s in _OPEN_ON_REQUESTED_SIDE),
        *(T(s, "record_closure", S.CLOSED, RQD, BY_SYSTEM)
          for s in (S.EXECUTED, S.PARTIALLY_EXECUTED, S.REFUSED)),
    ]
    return rows


TRANSITIONS: tuple[Transition, ...] = tuple(_rows())
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))

ACTION_LABELS: dict[str, str] = {
    "submit": N_("Submit for approval"),
    "send_back": N_("Send back to drafting"),
    "approve": N_("Approve"),
    "transmit": N_("Transmit"),
    "withdraw": N_("Withdraw the request"),
    "answer_clarification": N_("Answer the clarification request"),
    "close": N_("Close"),
    "record_delivery": N_("Record delivery"),
    "record_acknowledgement": N_("Record acknowledgement of receipt"),
    "record_clarification_request": N_("Record clarification request"),
    "record_refusal": N_("Record refusal"),
    "record_postponement": N_("Record postponement"),
    "record_partial_execution": N_("Record partial execution"),
    "record_execution": N_("Record execution"),
    "acknowledge": N_("Acknowledge receipt"),
    "request_clarification": N_("Request clarification"),
    "record_clarification_answer": N_("Record clarification answer"),
    "refuse": N_("Refuse"),
    "start_execution": N_("Decide to execute"),
    "postpone": N_("Postpone execution"),
    "resume_execution": N_("Resume execution"),
    "report_partial_execution": N_("Report partial execution"),
    "report_execution": N_("Report execution"),
    "record_withdrawal": N_("Record withdrawal"),
    "record_closure": N_("Record closure"),
}

# Which action an inbound message triggers on the recipient's record: (message kind, report type) → action.
INBOUND_ACTIONS: dict[tuple[str, str | None], str] = {
    ("delivery_receipt", None): "record_delivery",
    ("acknowledgement", None): "record_acknowledgement",
    ("clarification_request", None): "record_clarification_request",
    ("clarification_answer", None): "record_clarification_answer",
    ("refusal", None): "record_refusal",
    ("postponement", None): "record_postponement",
    ("execution_report", "partial"): "record_partial_execution",
    ("execution_report", "final"): "record_execution",
    ("withdrawal", None): "record_withdrawal",
    ("closure", None): "record_closure",
}


def inbound_action(kind: str, payload: dict[str, object]) -> str | None:
    report_type = payload.get("report_type") if kind == "execution_report" else None
    return INBOUND_ACTIONS.get((kind, report_type if isinstance(report_type, str) else None))


# The table indexed once: every transition looks its rows up (scanning the table was a few percent of one).
_BY_ACTION: dict[str, tuple[Transition, ...]] = {
    action: tuple(t for t in TRANSITIONS if t.action == action) for action in ACTIONS}
_BY_STATE: dict[tuple[str, str], tuple[Transition, ...]] = {}
for _t in TRANSITIONS:
    _BY_STATE[(_t.from_state.value, _t.side.value)] = (*_BY_STATE.get((_t.from_state.value, _t.side.value), ()), _t)


def transitions_for(action: str) -> tuple[Transition, ...]:
    return _BY_ACTION.get(action, ())


def available(state: State | str, side: Side | str) -> tuple[Transition, ...]:
    return _BY_STATE.get((str(state), str(side)), ())

