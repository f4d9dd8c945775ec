"""The observatory's side of ``/inbox``: a statistical return, already authenticated by the inbox (signature,
sender key, recipient served here, not a replay), is accepted only if

* the recipient acts as an observatory                       ``not_an_observatory``
* the sender is one of its members                           ``untrusted_sender``
* the figures are well formed, for the sender itself         ``schema_invalid``, ``sender_mismatch``
* every published count respects the observatory's threshold ``not_suppressed``
* the period is of the observatory's granularity and over    ``out_of_period``
* it is the first return of the sender for the period        ``duplicate_return``

A rejection raises :class:`MessageRejected`; the inbox answers with a signed negative receipt and stores
nothing but the rejected message row. No case is opened: returns never carry row-level data."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from engine.errors import InvalidInput, MessageRejected
from engine.observatory.periods import parse_period
from engine.observatory.returns import KIND
from engine.store.observatory_models import Observatory, ObservatoryMember, StatisticalReturn
from engine.transport.envelope import Envelope

KINDS = frozenset({KIND})
SCHEMA = Path(__file__).with_name("statistical_return.schema.json")


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _reject(reason: str, detail: str) -> MessageRejected:
    return MessageRejected(reason=reason, detail=detail)


def accept(session: Session, envelope: Envelope, now: datetime) -> str:
    """Check and store one return; the receipt's reference is ``OBSERVATORY/PERIOD/SENDER``."""
    observatory = session.get(Observatory, envelope.recipient)
    if observatory is None:
        raise _reject("not_an_observatory", f"{envelope.recipient} does not act as an observatory")
    if session.get(ObservatoryMember, (observatory.code, envelope.sender)) is None:
        raise _reject("untrusted_sender", f"{observatory.code} does not take returns from {envelope.sender}")
    figures: Any = envelope.payload
    errors = sorted(_validator().iter_errors(figures), key=lambda e: list(e.path))
    if errors:
        first = "; ".join(f"/{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        raise _reject("schema_invalid", f"{len(errors)} schema errors: {first}")
    if figures["authority"] != envelope.sender:
        raise _reject("sender_mismatch", f"figures of {figures['authority']} sent by {envelope.sender}")
    small = [r for r in figures["rows"] if r["count"] is not None and 0 < r["count"] < observatory.threshold]
    if figures["threshold"] < observatory.threshold or small:
        raise _reject("not_suppressed", f"groups smaller than {observatory.threshold} must be suppressed at "
                                        f"source ({len(small)} are not)")
    try:
        period = parse_period(figures["period"])
    except InvalidInput as error:
        raise _reject("out_of_period", error.message("en")) from None
    sent_on = datetime.fromisoformat(envelope.sent_at).date()
    if period.granularity != observatory.granularity or sent_on <= period.end:
        raise _reject("out_of_period", f"{observatory.code} takes returns for whole past "
                                       f"{observatory.granularity}s; {period.code} sent on {sent_on}")
    duplicate = session.exec(select(StatisticalReturn.id).where(
        StatisticalReturn.observatory_code == observatory.code, StatisticalReturn.sender_code == envelope.sender,
        StatisticalReturn.period == period.code)).first()
    if duplicate is not None:
        raise _reject("duplicate_return", f"{envelope.sender} already sent its return for {period.code}")
    session.add(StatisticalReturn(observatory_code=observatory.code, sender_code=envelope.sender,
                                  period=period.code, message_id=envelope.message_id, figures=figures,
                                  received_at=now))
    try:
        session.flush()
    except IntegrityError:  # the same return arriving twice at once under another message id
        raise _reject("duplicate_return", f"{envelope.sender} already sent its return for {period.code}") from None
    return f"{observatory.code}/{period.code}/{envelope.sender}"
