"""Signing speed: PAdES sign+verify of a request PDF beside bare pyHanko on a blank one-page PDF, and envelope
sign+verify beside bare ``cryptography`` on the same bytes (same run, same machine).

    .venv/bin/python bench/signing.py [--seconds 3] [--example co-es-bank-records]

PAdES (B-B, ECDSA P-256 certificate from a CA built here, invisible and visible in the signature block):
exhorto's ``sign_pdf`` + ``verify_pdf`` (trust decision against a trust list) vs pyHanko's ``PdfSigner`` +
``validate_pdf_signature`` on a blank page. Envelopes as they travel now — ES256 with the authority's X.509
certificate: ``sign_envelope`` + what the inbox checks (chain against the trust list, cached per chain; ECDSA
verification; the certificate's standing at ``sent_at``) — and the full wire round trip (serialise,
``parse_transmission``, canonicalise again, verify), vs bare ``cryptography`` ECDSA P-256 sign + verify of the same
canonical bytes; the first format (Ed25519) beside bare Ed25519. Targets: X.509 envelope ≥ 5,000 sign+verify/s
and ≥ 0.5× bare ECDSA.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXAMPLES = Path(__file__).resolve().parents[1] / "forms" / "examples" / "request"
TARGET_RATE, TARGET_RATIO = 5000.0, 0.5


def rate(seconds: float, work: Callable[[], object]) -> float:
    work()  # warm-up
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - started)


def pades(seconds: float, example: str) -> None:
    import pikepdf
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from pypdf import PdfReader

    from engine.documents import Party, RenderRequest, render_pdf
    from engine.documents._pades import _asn1_cert, sign_pdf, verify_pdf
    from engine.pki import _x509

    now = datetime.now(UTC)
    ca = _x509.create_ca(_x509.name("bench CA", "ES"), now=now)
    me = _x509.issue(ca, _x509.name("Fiscalía General de la Nación", "CO", "CO-FGN"), now=now)
    raw = (EXAMPLES / f"{example}.json").read_bytes()
    rendered = render_pdf(RenderRequest(form="request", payload=json.loads(raw), payload_bytes=raw, language="es",
                                        secondary_language="en", sender=Party("CO-FGN", "Fiscalía", "CO"),
                                        recipient=Party("ES-MJ", "Ministerio de Justicia", "ES"),
                                        issued_at=now))
    request = rendered.content
    pages = len(PdfReader(io.BytesIO(request)).pages)

    def ours() -> None:
        signed, _ = sign_pdf(request, me)
        assert verify_pdf(signed, [ca.certificate], []).valid

    from engine.documents._signing import stamp_for

    def ours_visible() -> None:  # what outbound documents get: the signature drawn in the signature block
        signed, _ = sign_pdf(request, me, stamp=stamp_for(rendered, me, "es"))
        assert verify_pdf(signed, [ca.certificate], []).valid

    blank_buffer = io.BytesIO()
    with pikepdf.new() as blank:
        blank.add_blank_page()
        blank.save(blank_buffer)
    blank_pdf = blank_buffer.getvalue()
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(me.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(me.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8,
                                                                         NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(ca.certificate)]))
    meta = signers.PdfSignatureMetadata(field_name="Sig", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)

    def bare() -> None:
        out = signers.PdfSigner(meta, signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(blank_pdf)))
        status = validate_pdf_signature(PdfFileReader(out).embedded_signatures[0],
                                        ValidationContext(trust_roots=[_asn1_cert(ca.certificate)]))
        assert status.bottom_line

    ours_rate, visible_rate, bare_rate = rate(seconds, ours), rate(seconds, ours_visible), rate(seconds, bare)
    print(f"pades: {ours_rate:.1f} sign+verify/s invisible, {visible_rate:.1f}/s visible ({pages}-page request, "
          f"{len(request)} bytes); bare pyHanko {bare_rate:.1f}/s (blank 1-page, invisible); ratio "
          f"{ours_rate / bare_rate:.2f} / {visible_rate / bare_rate:.2f}")


def envelopes(seconds: float) -> bool:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine import keys
    from engine.canonical import canonical_json
    from engine.pki import TrustStore, _x509
    from engine.transport.envelope import Envelope
    from engine.transport.signing import (
        X509Signer,
        parse_transmission,
        sign_envelope,
        signature_holds,
        x509_signature_holds,
    )

    payload = json.loads((EXAMPLES / "co-es-bank-records.json").read_bytes())
    now = datetime.now(UTC)
    sent_at = now.isoformat()
    envelope = Envelope(exchange_id="01900000-0000-7000-8000-000000000001",
                        message_id="01900000-0000-7000-8000-000000000002", kind="request", sender="CO-FGN",
                        recipient="ES-MJ", sent_at=sent_at,
                        schema_id="https://exhorto.eu/schemas/request/v1", payload=payload)
    data = canonical_json(envelope.to_dict())

    # X.509 (what envelopes are signed with): a network CA on the receiver's trust list, an authority certificate.
    ca = _x509.create_ca(_x509.name("bench CA", "ES"), now=now)
    identity = _x509.issue(ca, _x509.name("Fiscalía General de la Nación", "CO", "CO-FGN"), now=now)
    signer = X509Signer.of(identity)
    store = TrustStore([ca.certificate], [])

    def receive(transmission: object) -> None:
        """What the inbox does with an X.509 signature (engine.inbox._x509_problem) minus the database."""
        signature = transmission.signature  # type: ignore[attr-defined]
        chain = store.check(signature.x5c)
        assert chain.thumbprint == signature.key_id
        assert x509_signature_holds(chain.public_key, signature, transmission.signed_bytes)  # type: ignore[attr-defined]
        assert keys.certificate_problem(chain, "CO-FGN", now, now) is None

    def ours_x509() -> None:
        receive(sign_envelope(envelope, signer, signer.key_id))

    def wire_x509() -> None:
        receive(parse_transmission(sign_envelope(envelope, signer, signer.key_id).to_bytes()))

    ec_key, ec_public = identity.key, identity.certificate.public_key()

    def bare_ecdsa() -> None:
        ec_public.verify(ec_key.sign(data, ec.ECDSA(hashes.SHA256())), data, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg,union-attr]

    # Ed25519 (the first envelope format, still accepted).
    private = Ed25519PrivateKey.generate()
    public, key_id = private.public_key(), keys.key_id_for("CO-FGN", keys.public_raw(private))

    def ours_ed25519() -> None:
        transmission = sign_envelope(envelope, private, key_id)
        assert signature_holds(public, transmission.signature, transmission.signed_bytes)

    def bare_ed25519() -> None:
        public.verify(private.sign(data), data)

    def canonical_only() -> None:
        canonical_json(envelope.to_dict())

    rows = [("envelope X.509 (ES256)", rate(seconds, ours_x509), "bare ECDSA P-256"),
            ("  over the wire", rate(seconds, wire_x509), "bare ECDSA P-256"),
            ("bare ECDSA P-256", rate(seconds, bare_ecdsa), "bare ECDSA P-256"),
            ("envelope Ed25519", rate(seconds, ours_ed25519), "bare Ed25519"),
            ("bare Ed25519", rate(seconds, bare_ed25519), "bare Ed25519"),
            ("canonical JSON alone", rate(seconds, canonical_only), "")]
    bases = {label: value for label, value, _ in rows}
    for label, value, base in rows:
        ratio = f"{value / bases[base]:>5.2f}x {base}" if base else ""
        print(f"{label:<26}{value:>10.0f}/s  {ratio}")
    ours_rate, base = rows[0][1], rows[2][1]
    met = ours_rate >= TARGET_RATE and ours_rate >= TARGET_RATIO * base
    print(f"signing: {ours_rate:.1f} X.509 envelope sign+verify/s ({len(data)}-byte envelope); target ≥ "
          f"{TARGET_RATE:.0f}/s and ≥ {TARGET_RATIO}x bare ECDSA: {'met' if met else 'NOT met'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--example", default="co-es-bank-records")
    parser.add_argument("--skip-pades", action="store_true")
    args = parser.parse_args()
    met = envelopes(args.seconds)
    if not args.skip_pades:
        pades(args.seconds, args.example)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
