"""The evidences a node records about a message, named as e-CODEX names them, with the ETSI REM event (ETSI EN
319 522-2) each one corresponds to. The table is the whole vocabulary; docs/signatures.md explains each line."""

from __future__ import annotations

from dataclasses import dataclass

from engine.i18n import N_

# The message kind that carries an evidence stated by the recipient (Retrieval) back to the sender's node.
EVIDENCE_KIND = "evidence"


@dataclass(frozen=True)
class EvidenceKind:
    name: str  # e-CODEX evidence name
    etsi_event: str  # ETSI REM event
    label: str  # msgid
    positive: bool


KINDS: dict[str, EvidenceKind] = {k.name: k for k in (
    EvidenceKind("SubmissionAcceptance", "SubmissionAcceptance",
                 N_("Submission accepted: the sending node took the message for transmission"), True),
    EvidenceKind("SubmissionRejection", "SubmissionRejection",
                 N_("Submission rejected: the sending node refused the message"), False),
    EvidenceKind("RelayREMMDAcceptance", "RelayAcceptance",
                 N_("Relay accepted: the recipient's node accepted the message"), True),
    EvidenceKind("RelayREMMDRejection", "RelayRejection",
                 N_("Relay rejected: the recipient's node refused the message"), False),
    EvidenceKind("RelayREMMDFailure", "RelayFailure",
                 N_("Relay failed: the recipient's node could not be reached (delivery is retried)"), False),
    EvidenceKind("Delivery", "ContentHandover",
                 N_("Delivered: the message was placed in the recipient authority's case"), True),
    EvidenceKind("NonDelivery", "ContentHandoverFailure",
                 N_("Not delivered: the message could not be placed in the recipient authority's case"), False),
    EvidenceKind("Retrieval", "ContentRetrieval",
                 N_("Retrieved: a user of the recipient authority opened the case for the first time"), True),
)}
