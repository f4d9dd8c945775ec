"""Delivery evidences (e-CODEX / ETSI REM): signed statements of what happened to each message, kept with the
case, shown on its timeline and exportable (``exhorto case evidence REF --out DIR``)."""

from engine.evidence._export import Exported, evidence_document, export, verify_record
from engine.evidence._inbound import accept_inbound
from engine.evidence._kinds import EVIDENCE_KIND, KINDS, EvidenceKind
from engine.evidence._record import list_for_case, on_first_read, on_receipt, record

__all__ = ["EVIDENCE_KIND", "KINDS", "EvidenceKind", "Exported", "accept_inbound", "evidence_document", "export",
           "list_for_case", "on_first_read", "on_receipt", "record", "verify_record"]
