"""A signed document's verdict against this node's trust list, and how to say it in the user's language (the same
lines for ``exhorto pdf verify`` and the web case page)."""

from __future__ import annotations

from datetime import datetime

from engine.documents._pades import Verdict, verify_pdf
from engine.errors import InvalidInput
from engine.i18n import N_, translate
from engine.store.db import Database

UNSIGNED = N_("This PDF carries no electronic signature.")
SIGNER = N_("Signed by: {signer}")
CHAIN = N_("Certificate chain: {chain}")
SIGNING_TIME = N_("Signing time (stated by the signer): {time}")
TIMESTAMP = N_("Timestamp (RFC 3161) by {authority}: {time}")
NO_TIMESTAMP = N_("No timestamp: the signing time is only the signer's statement.")
LEVEL = N_("Signature level: PAdES {level}")
INTACT = N_("Integrity: intact; the signed content has not been modified.")
MODIFIED = N_("Integrity: MODIFIED; the content does not match the signature.")
WHOLE = N_("Coverage: the signature covers the whole document.")
PARTIAL = N_("Coverage: content was added after the signature.")
TRUSTED = N_("Trust: the signer's certificate chains to a CA on this node's trust list.")
UNTRUSTED = N_("Trust: NOT trusted; the signer's certificate does not chain to this node's trust list.")
REVOKED = N_("Trust: NOT trusted; the signer's certificate is revoked.")
VALID = N_("Verdict: valid.")
INVALID = N_("Verdict: NOT valid.")


def verify_document(db: Database, content: bytes, *, source: str = "file") -> Verdict:
    from engine import pki

    trusted, crls = pki.trust_material(db)
    try:
        return verify_pdf(content, trusted, crls)
    except ValueError as error:
        raise InvalidInput(field=source, reason=str(error)) from None


def _time(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


def describe(verdict: Verdict, lang: str) -> list[str]:
    def t(msgid: str, **params: str) -> str:
        return translate(lang, msgid).format(**params)

    if not verdict.signed:
        return [t(UNSIGNED), t(INVALID)]
    lines = [t(SIGNER, signer=verdict.signer or "-")]
    if verdict.chain:
        lines.append(t(CHAIN, chain=" → ".join(verdict.chain)))
    lines.append(t(SIGNING_TIME, time=_time(verdict.signing_time)))
    lines.append(t(TIMESTAMP, authority=verdict.timestamp_authority, time=_time(verdict.timestamp_time))
                 if verdict.timestamp_time else t(NO_TIMESTAMP))
    if verdict.level:
        lines.append(t(LEVEL, level=verdict.level))
    lines.append(t(INTACT) if verdict.intact else t(MODIFIED))
    lines.append(t(WHOLE) if verdict.whole_document else t(PARTIAL))
    lines.append(t(REVOKED) if verdict.revoked else t(TRUSTED) if verdict.trusted else t(UNTRUSTED))
    lines.append(t(VALID) if verdict.valid else t(INVALID))
    return lines
