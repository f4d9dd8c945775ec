"""PAdES signatures (pyHanko) on the documents an authority issues, and their verification.

Levels: PAdES B-B always; B-T when a timestamp authority is configured (``EXHORTO_TSA_URL``, RFC 3161 over HTTP);
B-LT when, in addition, the validation data (chain and CRLs this node holds) can be embedded. The signature is
visible in the stamp box of the document's signature block when its position is known (:class:`Stamp`): the
appearance is a one-page PDF laid out by WeasyPrint — fonts embedded, as PDF/A wants, which pyHanko's own text
stamp cannot do without extra font tooling — imported as the widget's background; otherwise invisible.

PDF/A-3b is kept: the signature is an incremental update, and pyHanko's producer string is written to both the
Info dictionary and the XMP metadata, which PDF/A requires to agree."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from engine.pki import Identity

TSA_URL_ENV = "EXHORTO_TSA_URL"
FIELD_NAME = "ExhortoSignature"
log = logging.getLogger(__name__)
# A chain that cannot be built is a verdict ("not trusted") here, not a warning with a traceback.
logging.getLogger("pyhanko.sign.validation").setLevel(logging.CRITICAL)


def tsa_url() -> str | None:
    return os.environ.get(TSA_URL_ENV, "").strip() or None


def _asn1_cert(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _validation_context(trusted: list[x509.Certificate], crls: list[x509.CertificateRevocationList],
                        *, require_revocation: bool = False):  # noqa: ANN202 (pyhanko_certvalidator is lazy)
    """Nothing is fetched (nothing phones home). Certificates without a distribution point are checked against a
    CRL only in "require" mode: it is used when this node holds the CRL of the signer's CA."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=[_asn1_cert(c) for c in trusted],
                             crls=[asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER)) for c in crls],
                             allow_fetching=False,
                             revocation_mode="require" if require_revocation else "soft-fail")


@dataclass(frozen=True)
class Stamp:
    """A visible signature: where (page index and box in PDF points, see ``RenderedPdf.signature_box``) and what
    it says (lines already in the document's language)."""

    box: tuple[int, float, float, float, float]
    lines: tuple[str, ...]
    lang: str = "en"


def _stamp_page(stamp: Stamp, folder: str) -> str:
    """The stamp's appearance as a one-page PDF the size of the box (DejaVu Sans, embedded by WeasyPrint)."""
    from html import escape

    from weasyprint import HTML

    _, x1, y1, x2, y2 = stamp.box
    width, height = x2 - x1, y2 - y1
    body = "".join(f"<p{' class=t' if i == 0 else ''}>{escape(line)}</p>" for i, line in enumerate(stamp.lines))
    html = (f"<!doctype html><html lang='{escape(stamp.lang)}'><head><meta charset='utf-8'><style>"
            f"@page{{size:{width:.2f}pt {height:.2f}pt;margin:0}}"
            "body{margin:0;font-family:'DejaVu Sans',sans-serif;font-size:6.5pt;line-height:1.25;color:#0b3d2e}"
            f"div{{box-sizing:border-box;height:{height:.2f}pt;border:1pt solid #0b6e4f;padding:3pt 4pt;"
            "background:#f3faf6}p{margin:0 0 1.5pt 0;overflow-wrap:anywhere}p.t{font-weight:bold;font-size:7pt}"
            f"</style></head><body><div>{body}</div></body></html>")
    from engine.documents._render import _weasyprint_resources

    path = os.path.join(folder, "stamp.pdf")
    HTML(string=html).write_pdf(path, font_config=_weasyprint_resources()[0])  # the fonts already loaded
    return path


def sign_pdf(content: bytes, identity: Identity, *, reason: str | None = None, location: str | None = None,
             timestamp_url: str | None = None, trusted: list[x509.Certificate] | None = None,
             crls: list[x509.CertificateRevocationList] | None = None,
             stamp: Stamp | None = None) -> tuple[bytes, str]:
    """``content`` signed by ``identity`` (visibly when ``stamp`` is given); returns the signed bytes and the
    PAdES level reached."""
    if stamp is None:
        return _sign_pdf(content, identity, reason, location, timestamp_url, trusted, crls, None)
    with tempfile.TemporaryDirectory(prefix="exhorto-stamp-") as folder:
        return _sign_pdf(content, identity, reason, location, timestamp_url, trusted, crls,
                         (stamp, _stamp_page(stamp, folder)))


def _sign_pdf(content: bytes, identity: Identity, reason: str | None, location: str | None,
              timestamp_url: str | None, trusted: list[x509.Certificate] | None,
              crls: list[x509.CertificateRevocationList] | None,
              visible: tuple[Stamp, str] | None) -> tuple[bytes, str]:
    from pyhanko.pdf_utils.generic import TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.metadata.model import VENDOR
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(identity.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(identity.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8,
                                                                               NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in identity.chain]))
    timestamper = HTTPTimeStamper(timestamp_url, timeout=10) if timestamp_url else None
    style, spec = None, None
    if visible is not None:
        from pyhanko.pdf_utils.content import ImportedPdfPage
        from pyhanko.stamp import StaticStampStyle

        page, x1, y1, x2, y2 = visible[0].box
        spec = fields.SigFieldSpec(sig_field_name=FIELD_NAME, on_page=page, box=(x1, y1, x2, y2))
        from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule

        layout = SimpleBoxLayoutRule(x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID,
                                     margins=Margins(0, 0, 0, 0), inner_content_scaling=InnerScaling.STRETCH_FILL)
        style = StaticStampStyle(background=ImportedPdfPage(visible[1]), border_width=0, background_opacity=1.0,
                                 background_layout=layout)

    def attempt(long_term: bool) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(content))
        info_ref = writer.trailer.raw_get("/Info")
        if info_ref is not None:  # XMP gets pyHanko's producer string: give the Info dictionary the same one
            writer.trailer["/Info"]["/Producer"] = TextStringObject(VENDOR)
            writer.mark_update(info_ref)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason, location=location, embed_validation_info=long_term,
            validation_context=_validation_context(trusted or [], crls or []) if long_term else None)
        output = signers.PdfSigner(meta, signer, timestamper=timestamper, stamp_style=style,
                                   new_field_spec=spec).sign_pdf(writer)
        return output.getvalue()

    if timestamper is None:
        return attempt(False), "B-B"
    try:
        return attempt(True), "B-LT"
    except Exception as error:  # the chain cannot be validated here (e.g. a root not on the trust list)
        log.info("PAdES B-LT not possible (%s); signing at B-T", error)
        return attempt(False), "B-T"


# --- verification -------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    """What a signed PDF says about itself, checked against this node's trust list."""

    signed: bool
    signer: str = ""
    chain: list[str] = field(default_factory=list)
    signing_time: datetime | None = None  # claimed by the signer
    timestamp_time: datetime | None = None  # attested by a timestamp authority (PAdES B-T)
    timestamp_authority: str = ""
    intact: bool = False  # the signed bytes match the signature
    whole_document: bool = False  # nothing was added after the signature
    trusted: bool = False
    revoked: bool = False
    level: str = ""
    trust_problem: str = ""

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.whole_document and self.trusted and not self.revoked


def verify_pdf(content: bytes, trusted: list[x509.Certificate],
               crls: list[x509.CertificateRevocationList]) -> Verdict:
    """Verify the last signature of ``content`` (an exhorto document carries one) against ``trusted``."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError) as error:
        raise ValueError(f"not a readable PDF ({error})") from None
    if not signatures:
        return Verdict(signed=False)
    embedded = signatures[-1]
    verdict = Verdict(signed=True)
    crl_issuers = {c.issuer.public_bytes() for c in crls}
    held = embedded.signer_cert.issuer.dump() in crl_issuers
    try:
        status = validate_pdf_signature(embedded, _validation_context(trusted, crls, require_revocation=held),
                                        ts_validation_context=_validation_context(trusted, crls))
    except (SignatureValidationError, ValueError) as error:
        verdict.trust_problem = str(error)
        return verdict
    cert = status.signing_cert
    verdict.signer = cert.subject.human_friendly
    verdict.chain = [c.subject.human_friendly for c in list(status.validation_path or [])[::-1]][1:] \
        if status.validation_path else [cert.issuer.human_friendly]
    verdict.signing_time = status.signer_reported_dt
    if status.timestamp_validity is not None:
        verdict.timestamp_time = status.timestamp_validity.timestamp
        verdict.timestamp_authority = status.timestamp_validity.signing_cert.subject.human_friendly
    verdict.intact = bool(status.intact and status.valid)
    # Whole document: nothing after the signature, or only validation data / timestamps (PAdES B-LT, B-LTA).
    verdict.whole_document = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is not None
        and status.modification_level <= ModificationLevel.LTA_UPDATES)
    verdict.trusted = bool(status.trusted)
    verdict.revoked = bool(status.revoked)
    if not verdict.trusted:
        verdict.trust_problem = _trust_problem(status)
    dss = reader.root.get("/DSS")
    verdict.level = "B-LT" if dss is not None and verdict.timestamp_time else (
        "B-T" if verdict.timestamp_time else "B-B")
    return verdict


def _trust_problem(status: object) -> str:
    errors = getattr(status, "validation_path_error", None) or getattr(status, "trust_problem_indic", None)
    return str(errors) if errors else ""
