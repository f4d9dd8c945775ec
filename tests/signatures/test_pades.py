"""PAdES signatures on exhorto's documents, checked by two independent verifiers: poppler's ``pdfsig`` (NSS) and
pyHanko's validator. A real test PKI, a real RFC 3161 timestamp server on loopback; one byte flipped after signing
is reported as a modification by both."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from typer.testing import CliRunner

from engine import documents, pki
from engine.cli import app
from engine.documents import Party, RenderRequest, render_pdf
from engine.documents._pades import sign_pdf, verify_pdf
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from tests.helpers import World, make_world
from tests.signatures.conftest import PkiFixture, pdfsig

EXAMPLE = Path(__file__).resolve().parents[2] / "forms" / "examples" / "request" / "co-es-bank-records.json"


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    raw = EXAMPLE.read_bytes()
    return render_pdf(RenderRequest(form="request", payload=json.loads(raw), payload_bytes=raw, language="es",
                                    sender=Party("CO-FGN", "Fiscalía General de la Nación", "CO"),
                                    recipient=Party("ES-MJ", "Ministerio de Justicia", "ES"),
                                    issued_at=datetime(2026, 11, 23, tzinfo=UTC))).content


def _flip(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


def test_timestamped_signature_is_valid_for_both_verifiers_and_a_flipped_byte_is_modified_for_both(
        unsigned: bytes, test_pki: PkiFixture, tsa_url: str, nss_db: Path, tmp_path: Path) -> None:
    signed, level = sign_pdf(unsigned, test_pki.requesting, reason="test", location="CO", timestamp_url=tsa_url,
                             trusted=[test_pki.ca.certificate], crls=[test_pki.crl])
    assert level == "B-LT"
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)

    poppler = pdfsig(path, nss_db)
    # B-LT appends the validation data (DSS) after the signature: pdfsig says "Not total document signed" for
    # that allowed update, pyHanko knows it is only validation data.
    assert poppler.valid and poppler.trusted, poppler.text
    verdict = verify_pdf(signed, [test_pki.ca.certificate], [test_pki.crl])
    assert verdict.valid and verdict.intact and verdict.whole_document and verdict.trusted
    assert verdict.timestamp_time is not None and "Test TSA" in verdict.timestamp_authority
    assert verdict.level == "B-LT"
    assert "Fiscalía General de la Nación" in verdict.signer

    flipped = tmp_path / "flipped.pdf"
    flipped.write_bytes(_flip(signed, len(unsigned) // 2))  # inside the signed range (the original document)
    poppler = pdfsig(flipped, nss_db)
    assert poppler.modified and not poppler.valid, poppler.text
    verdict = verify_pdf(flipped.read_bytes(), [test_pki.ca.certificate], [test_pki.crl])
    assert not verdict.intact and not verdict.valid


@pytest.fixture(scope="module")
def rendered() -> documents.RenderedPdf:
    raw = EXAMPLE.read_bytes()
    return render_pdf(RenderRequest(form="request", payload=json.loads(raw), payload_bytes=raw, language="fr",
                                    secondary_language="es",
                                    sender=Party("CO-FGN", "Fiscalía General de la Nación", "CO"),
                                    recipient=Party("ES-MJ", "Ministerio de Justicia", "ES"),
                                    issued_at=datetime(2026, 11, 23, tzinfo=UTC)))


def _widget(signed: bytes) -> tuple[int, list[float], int]:
    """(page index, /Rect, /F) of the signature's widget."""
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        for index, page in enumerate(pdf.pages):
            for annot in page.get("/Annots", []):
                if annot.get("/FT") == "/Sig":
                    return index, [float(v) for v in annot.Rect], int(annot.F)
    raise AssertionError("no signature widget")


def test_visible_timestamped_signature_sits_in_the_signature_block_and_both_verifiers_agree(
        rendered: documents.RenderedPdf, test_pki: PkiFixture, tsa_url: str, nss_db: Path, tmp_path: Path) -> None:
    from engine.documents._signing import stamp_for

    assert rendered.signature_box is not None  # found in the laid-out template: the dashed stamp box
    page, *box = rendered.signature_box
    stamp = stamp_for(rendered, test_pki.requesting, "fr")
    assert stamp is not None and stamp.lines[0] == "Signé électroniquement (PAdES)"
    signed, level = sign_pdf(rendered.content, test_pki.requesting, timestamp_url=tsa_url,
                             trusted=[test_pki.ca.certificate], crls=[test_pki.crl], stamp=stamp)
    assert level == "B-LT"
    where, rect, flags = _widget(signed)
    assert where == page and rect == pytest.approx(box, abs=0.01)
    assert flags & 4 and not flags & 2  # printed, not hidden: a visible signature (PDF/A wants Print set)
    with pikepdf.open(io.BytesIO(signed)) as pdf, pdf.open_metadata() as xmp:
        assert (xmp.get("pdfaid:part"), xmp.get("pdfaid:conformance")) == ("3", "B")
    path = tmp_path / "visible.pdf"
    path.write_bytes(signed)
    poppler = pdfsig(path, nss_db)
    assert poppler.valid and poppler.trusted, poppler.text
    verdict = verify_pdf(signed, [test_pki.ca.certificate], [test_pki.crl])
    assert verdict.valid and verdict.level == "B-LT" and verdict.timestamp_time is not None

    flipped = tmp_path / "flipped.pdf"
    flipped.write_bytes(_flip(signed, len(rendered.content) // 3))
    assert pdfsig(flipped, nss_db).modified
    assert not verify_pdf(flipped.read_bytes(), [test_pki.ca.certificate], [test_pki.crl]).intact


def test_basic_signature_keeps_pdfa_and_agrees_on_the_producer(unsigned: bytes, test_pki: PkiFixture,
                                                               nss_db: Path, tmp_path: Path) -> None:
    signed, level = sign_pdf(unsigned, test_pki.requesting)
    assert level == "B-B"
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    poppler = pdfsig(path, nss_db)
    assert poppler.valid and poppler.trusted and poppler.whole, poppler.text
    with pikepdf.open(io.BytesIO(signed)) as pdf, pdf.open_metadata() as xmp:
        assert (xmp.get("pdfaid:part"), xmp.get("pdfaid:conformance")) == ("3", "B")
        assert str(pdf.docinfo["/Producer"]) == xmp.get("pdf:Producer")
    assert documents.extract_payload(signed) == EXAMPLE.read_bytes()  # the embedded JSON survives signing


def test_untrusted_and_revoked_signers_are_not_valid(unsigned: bytes, test_pki: PkiFixture) -> None:
    signed, _ = sign_pdf(unsigned, test_pki.requesting)
    stranger = verify_pdf(signed, [], [])
    assert stranger.intact and not stranger.trusted and not stranger.valid

    revoked, _ = sign_pdf(unsigned, test_pki.revoked)
    assert verify_pdf(revoked, [test_pki.ca.certificate], []).valid  # before the CRL is known
    verdict = verify_pdf(revoked, [test_pki.ca.certificate], [test_pki.crl])
    assert verdict.intact and verdict.revoked and not verdict.valid


def test_unsigned_pdf_has_no_signature(unsigned: bytes) -> None:
    verdict = verify_pdf(unsigned, [], [])
    assert not verdict.signed and not verdict.valid


@pytest.fixture
def node(tmp_path: Path, test_pki: PkiFixture, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("EXHORTO_ATTACH_PDF", "1")
    monkeypatch.setenv("EXHORTO_P12_PASSWORD", "seal password")
    db = Database(f"sqlite:///{tmp_path / 'node.db'}")
    ensure_schema(db)
    make_world(db)
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(test_pki.p12(test_pki.requesting, "seal password"))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(test_pki.ca_pem())
    runner = CliRunner()
    for args in (["keys", "cert", "import-p12", "CO-FGN", str(p12)], ["keys", "trust", "add", str(ca)]):
        result = runner.invoke(app, ["--db", db.url, *args])
        assert result.exit_code == 0, result.output
    return db


def test_outbound_request_is_signed_by_the_issuing_authority_and_verifies(node: Database, tmp_path: Path,
                                                                          nss_db: Path) -> None:
    world = World(node)
    case = world.new_request()
    world.act(case, "submit", "CO-FGN", "clerk")
    world.act(case, "approve", "CO-FGN", "judge")
    world.act(case, "transmit", "CO-FGN", "clerk")
    [sent] = [d for d in documents.list_documents(node, case.reference) if d.message_id]
    assert sent.rendering_sha256 != sent.sha256  # signed after rendering
    path = tmp_path / sent.filename
    path.write_bytes(sent.content)
    assert pdfsig(path, nss_db).valid
    assert _widget(sent.content)[2] & 4  # visible, in the signature block

    result = CliRunner().invoke(app, ["--db", node.url, "--lang", "es", "pdf", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "Fiscalía General de la Nación" in result.output
    assert "Veredicto: válido." in result.output

    # Rendering the same document again finds the signed one: no second copy, no second signature.
    again = documents.render_message(node, sent.message_id or "", sent.language, sent.secondary_language)
    assert again.id == sent.id
    assert len([d for d in documents.list_documents(node, case.reference) if d.kind == "request"]) == 1


def test_verify_cli_says_modified_and_exits_1(node: Database, unsigned: bytes, test_pki: PkiFixture,
                                              tmp_path: Path) -> None:
    signed, _ = sign_pdf(unsigned, test_pki.requesting)
    path = tmp_path / "flipped.pdf"
    path.write_bytes(_flip(signed, len(unsigned) // 2))
    result = CliRunner().invoke(app, ["--db", node.url, "--lang", "fr", "pdf", "verify", str(path)])
    assert result.exit_code == 1
    assert "MODIFIÉ" in result.output


def test_verify_cli_refuses_a_file_that_is_not_a_pdf(node: Database, tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("hello")
    result = CliRunner().invoke(app, ["--db", node.url, "pdf", "verify", str(path)])
    assert result.exit_code == 2
    assert "not a readable PDF" in result.output and "Traceback" not in result.output


def test_certificates_are_listed_with_their_private_keys_sealed(node: Database, test_pki: PkiFixture) -> None:
    [row] = pki.list_certificates(node)
    assert row.authority_code == "CO-FGN" and row.role == "signing"
    assert row.fingerprint == pki.fingerprint(test_pki.requesting.certificate)
    assert set(row.private_key) >= {"kdf", "salt", "nonce", "ciphertext"}
