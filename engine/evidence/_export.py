"""``exhorto case evidence REF --out DIR``: the evidences of a case as JSON (records, signatures, the certificates
that verify them) and a PAdES-signed PDF/A-3b summary with that JSON embedded."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session

from engine.canonical import canonical_json
from engine.evidence._kinds import KINDS
from engine.evidence._record import list_for_case
from engine.i18n import N_, translate
from engine.store.db import Database
from engine.store.models import Case
from engine.store.pki_models import OwnCertificate

TITLE = N_("Delivery evidence of case {reference}")
COLUMNS = (N_("Time (UTC)"), N_("Evidence"), N_("Stated by"), N_("Message"), N_("Signature"))
UNSIGNED = N_("not signed (no certificate on this node)")
FILE_JSON, FILE_PDF = "evidence.json", "evidence-summary.pdf"


@dataclass(frozen=True)
class Exported:
    json_path: Path
    pdf_path: Path
    count: int
    pdf_signed: bool


def _chain_pem(row: OwnCertificate) -> str:
    certs = [row.certificate, *(base64.b64decode(c) for c in row.chain)]
    return "".join(x509.load_der_x509_certificate(c).public_bytes(Encoding.PEM).decode() for c in certs)


def evidence_document(session: Session, case: Case) -> dict[str, Any]:
    rows = list_for_case(session, case.id or 0)
    certificates = {}
    for row in rows:
        fingerprint = row.certificate_fingerprint
        if not fingerprint or fingerprint in certificates:
            continue
        if row.certificates:  # stated by the counterpart: the certificates it sent with the evidence
            certificates[fingerprint] = "".join(
                x509.load_der_x509_certificate(base64.b64decode(c)).public_bytes(Encoding.PEM).decode()
                for c in row.certificates)
            continue
        own = session.get(OwnCertificate, fingerprint)
        if own is not None:
            certificates[fingerprint] = _chain_pem(own)
    return {
        "case": case.reference, "authority": case.authority_code, "counterpart": case.counterpart_code,
        "signature_algorithm": "ECDSA-SHA256 (or RSA PKCS#1 v1.5 SHA-256) over the RFC 8785 canonical JSON of "
                               "'record'",
        "evidences": [{"record": r.record, "signature": r.signature, "certificate": r.certificate_fingerprint}
                      for r in rows],
        "certificates": certificates,
    }


def verify_record(item: dict[str, Any], certificates: dict[str, str]) -> bool:
    """Whether one exported evidence's signature matches its record (what a counterpart checks)."""
    if not item.get("signature") or item.get("certificate") not in certificates:
        return False
    cert = x509.load_pem_x509_certificates(certificates[item["certificate"]].encode())[0]
    signature = base64.urlsafe_b64decode(item["signature"] + "=" * (-len(item["signature"]) % 4))
    data = canonical_json(item["record"])
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _summary_html(document: dict[str, Any], lang: str) -> str:
    def t(msgid: str) -> str:
        return escape(translate(lang, msgid))

    rows = []
    for item in document["evidences"]:
        record = item["record"]
        kind = KINDS[record["evidence"]]
        message = record["message"]
        rows.append(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in (
                escape(record["at"][:19].replace("T", " ")),
                f"<b>{escape(kind.name)}</b><br>{t(kind.label)}"
                + (f"<br><i>{escape(str(record['reason'].get('code') or ''))}</i>" if record.get("reason") else ""),
                escape(record["issuer"]),
                f"{escape(message['kind'])}<br><small>{escape(message['message_id'])}</small>",
                f"<small>{escape((item['signature'] or '')[:24])}…</small>" if item["signature"] else t(UNSIGNED),
            )) + "</tr>")
    header = "".join(f"<th>{t(c)}</th>" for c in COLUMNS)
    title = escape(translate(lang, TITLE).format(reference=document["case"]))
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title><style>"
            "@page{size:A4;margin:18mm} body{font-family:'DejaVu Sans',sans-serif;font-size:9pt}"
            "table{border-collapse:collapse;width:100%} td,th{border:0.5pt solid #999;padding:3pt;"
            "vertical-align:top;text-align:left}</style></head><body>"
            f"<h1>{title}</h1><p>{escape(document['authority'])} → {escape(document['counterpart'])}</p>"
            f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>")


def export(db: Database, case: Case, out_dir: Path, lang: str) -> Exported:
    from weasyprint import HTML, Attachment

    from engine import pki
    from engine.documents._pades import sign_pdf, tsa_url

    with db.reader() as session:
        document = evidence_document(session, case)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = json.dumps(document, ensure_ascii=False, indent=2).encode()
    json_path = out_dir / FILE_JSON
    json_path.write_bytes(data + b"\n")
    now = datetime.now(UTC).replace(microsecond=0)
    pdf = HTML(string=_summary_html(document, lang)).write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=[Attachment(string=data, name=FILE_JSON, relationship="Data", description="evidence records",
                                created=now, modified=now)])
    identity = pki.signing_identity(db, case.authority_code)
    if identity is not None:
        trusted, crls = pki.trust_material(db) if tsa_url() else ([], [])
        pdf, _level = sign_pdf(pdf, identity, reason=translate(lang, TITLE).format(reference=case.reference),
                               timestamp_url=tsa_url(), trusted=trusted, crls=crls)
    pdf_path = out_dir / FILE_PDF
    pdf_path.write_bytes(pdf)
    return Exported(json_path, pdf_path, len(document["evidences"]), identity is not None)
