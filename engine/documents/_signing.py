"""Which documents get a PAdES signature, and with whose certificate: a document issued by an authority this node
holds a signing certificate for (``exhorto keys cert issue|import-p12``) is signed by it; drafts never are."""

from __future__ import annotations

import dataclasses

from cryptography.x509.oid import NameOID
from sqlmodel import Session

from engine.canonical import sha256_hex
from engine.documents._pades import Stamp, sign_pdf, tsa_url
from engine.documents._render import RenderedPdf, RenderRequest
from engine.i18n import N_, translate
from engine.pki import Identity
from engine.store.db import Database
from engine.store.models import utcnow

_REASON = N_("Issued by the central authority")
STAMP_TITLE = N_("Electronically signed (PAdES)")
STAMP_SIGNER = N_("Signed by: {signer}")
STAMP_TIME = N_("Time of signature: {time}")
STAMP_CHECK = N_("Check this signature in the signature panel of any PDF reader.")


def stamp_for(pdf: RenderedPdf, identity: Identity, lang: str) -> Stamp | None:
    """The visible signature for ``pdf`` (in its signature block's stamp box), or None when it has no box."""
    if pdf.signature_box is None:
        return None
    subject = identity.certificate.subject
    names = [str(a.value) for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
             for a in subject.get_attributes_for_oid(oid)]
    moment = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    return Stamp(box=pdf.signature_box, lang=lang, lines=(
        translate(lang, STAMP_TITLE), translate(lang, STAMP_SIGNER).format(signer=", ".join(names)),
        translate(lang, STAMP_TIME).format(time=moment), translate(lang, STAMP_CHECK)))


def sign_rendering(session: Session, request: RenderRequest, pdf: RenderedPdf) -> RenderedPdf:
    """``pdf`` signed by its issuing authority when this node holds that authority's certificate (else as is)."""
    from engine import pki

    if pdf.rendering_sha256 is not None or request.draft or request.sender is None:
        return pdf
    row = pki.signing_row(session, request.sender.code, utcnow())
    if row is None:
        return pdf
    identity = pki.identity_of(row, str(session.get_bind().engine.url))
    trusted, crls = _trust_material(session) if tsa_url() else ([], [])
    content, _level = sign_pdf(pdf.content, identity, reason=translate(request.language, _REASON),
                               location=request.sender.country, timestamp_url=tsa_url(), trusted=trusted, crls=crls,
                               stamp=stamp_for(pdf, identity, request.language))
    return dataclasses.replace(pdf, content=content, rendering_sha256=sha256_hex(pdf.content))


def render_signed(db: Database, request: RenderRequest) -> RenderedPdf:
    """Render and sign outside any write transaction (signing may call a timestamp authority over the network)."""
    from engine import documents  # through the package: one render_pdf for every caller (and test observer)

    pdf = documents.render_pdf(request)
    with db.reader() as session:
        return sign_rendering(session, request, pdf)


def _trust_material(session: Session) -> tuple[list, list]:
    from cryptography import x509
    from sqlmodel import select

    from engine.store.pki_models import RevocationList, TrustedCertificate

    trusted = [x509.load_der_x509_certificate(r.certificate) for r in session.exec(select(TrustedCertificate))]
    crls = [x509.load_der_x509_crl(r.crl) for r in session.exec(select(RevocationList))]
    return trusted, crls
