"""What an action will do, and what it did, in the reader's words: the action page lists every effect before the
user confirms (approve, and transmit right after when the box is ticked; a document sent to whom; the new state),
and the confirmation after the action names each one that happened (approved; transmitted to whom; queued for
delivery).

Framework-free: sentences are msgids translated here with the counterpart named as "ES-MJ (Ministerio de
Justicia, Spain)", the country in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine import formatting, forms
from engine.actions import Outcome
from engine.errors import ExhortoError
from engine.i18n import N_, translate
from engine.lifecycle import ACTION_LABELS, STATE_LABELS, State, Transition
from engine.store.db import Database
from engine.store.models import Authority, Case
from engine.web.schema_form import label as schema_label

# Before the action (the approval page's two variants: with the "transmit right after" box ticked or not).
WILL_APPROVE = N_("The request will be approved. It will not be transmitted yet, and stays here until someone "
                  "transmits it.")
WILL_APPROVE_AND_TRANSMIT = N_("The request will be approved and transmitted to {recipient}.")
WILL_TRANSMIT = N_("The request will be transmitted to {recipient}.")
WILL_SEND = N_("The document “{document}” will be sent to {recipient}.")
WILL_SEND_BACK = N_("The request will go back to drafting, with your comment for the drafter.")
WILL_NOT_SEND = N_("Nothing is sent to {recipient}.")
STATE_AFTER = N_("State after the action")
# After the action.
DID_APPROVE = N_("The request was approved. It has not been transmitted yet.")
DID_APPROVE_AND_TRANSMIT = N_("The request was approved and transmitted to {recipient}.")
DID_TRANSMIT = N_("The request was transmitted to {recipient}.")
DID_SEND = N_("The document “{document}” was sent to {recipient}.")
QUEUED_NOW = N_("It is queued for delivery and delivered right away; the messages on this page show when it "
                "has arrived.")
QUEUED_LATER = N_("It is queued for delivery; the next delivery run sends it, and the messages on this page show "
                  "when it has arrived.")
DONE = N_("Done: {action}.")
NEW_STATE = N_("New state")


@dataclass(frozen=True)
class Effect:
    """One sentence of the action page; ``when`` ties it to the approval's "transmit right after" box ("transmit":
    only when ticked, "keep": only when not), None: always."""

    text: str
    when: str | None = None


def party(db: Database, code: str, lang: str) -> str:
    """``ES-MJ (Ministerio de Justicia, España)``: the code, the authority's own name, its country in ``lang``."""
    with db.reader() as session:
        authority = session.get(Authority, code)
    if authority is None:
        return code
    return f"{code} ({authority.name}, {formatting.country_name(authority.country, lang)})"


def _state(state: str, lang: str) -> str:
    label = STATE_LABELS.get(State(state)) if state in State._value2member_map_ else None
    return translate(lang, label) if label else state


def _document(kind: str, lang: str) -> str:
    try:
        return schema_label(forms.load_schema(kind), lang, kind)
    except ExhortoError:
        return kind.replace("_", " ")


def _with_colon(msgid: str, value: str, lang: str) -> str:
    return f"{formatting.with_colon(translate(lang, msgid), lang)} {value}."


def planned(db: Database, case: Case, row: Transition, lang: str) -> list[Effect]:
    """Every effect of ``row`` on ``case``, said before the user confirms."""
    _ = lambda msgid: translate(lang, msgid)  # noqa: E731
    recipient = party(db, case.counterpart_code, lang)
    effects: list[Effect] = []
    if row.action == "approve":
        transmitted = _state(State.TRANSMITTED.value, lang)
        effects += [
            Effect(_(WILL_APPROVE_AND_TRANSMIT).format(recipient=recipient), "transmit"),
            Effect(_with_colon(STATE_AFTER, transmitted, lang), "transmit"),
            Effect(_(WILL_APPROVE), "keep"),
            Effect(_with_colon(STATE_AFTER, _state(row.to_state.value, lang), lang), "keep"),
        ]
        return effects
    if row.action == "transmit":
        effects.append(Effect(_(WILL_TRANSMIT).format(recipient=recipient)))
    elif row.sends:
        effects.append(Effect(_(WILL_SEND).format(document=_document(row.sends, lang), recipient=recipient)))
    elif row.action == "send_back":
        effects.append(Effect(_(WILL_SEND_BACK)))
    if not row.sends and case.side == "requesting" and row.action != "send_back":
        effects.append(Effect(_(WILL_NOT_SEND).format(recipient=recipient)))
    effects.append(Effect(_with_colon(STATE_AFTER, _state(row.to_state.value, lang), lang)))
    return effects


def done(db: Database, outcomes: Sequence[Outcome], lang: str, *, dispatching: bool) -> str:
    """The confirmation of what ``outcomes`` (one action, or approve then transmit) did, as one paragraph."""
    _ = lambda msgid: translate(lang, msgid)  # noqa: E731
    actions = [o.event.action for o in outcomes]
    sent = [o.message for o in outcomes if o.message is not None]
    recipient = party(db, sent[0].recipient_code, lang) if sent else ""
    if actions == ["approve", "transmit"]:
        sentences = [_(DID_APPROVE_AND_TRANSMIT).format(recipient=recipient)]
    elif actions == ["approve"]:
        sentences = [_(DID_APPROVE)]
    elif actions == ["transmit"]:
        sentences = [_(DID_TRANSMIT).format(recipient=recipient)]
    else:
        label = ACTION_LABELS.get(actions[-1])
        sentences = [_(DONE).format(action=_(label) if label else actions[-1])]
        sentences += [_(DID_SEND).format(document=_document(m.kind, lang), recipient=recipient) for m in sent]
    if sent:
        sentences.append(_(QUEUED_NOW if dispatching else QUEUED_LATER))
    sentences.append(_with_colon(NEW_STATE, _state(outcomes[-1].case.state, lang), lang))
    return " ".join(sentences)
