"""`exhorto keys ca|cert|trust|crl`: a network CA, issued and imported certificates, the trust list and CRLs;
bad input is refused with a clear error and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from engine import pki
from engine.cli import app
from engine.errors import InvalidInput
from engine.keys import WrongPassphrase
from engine.pki import _x509
from engine.store.db import Database
from engine.store.migrate import ensure_schema
from tests.helpers import make_world
from tests.signatures.conftest import PkiFixture


@pytest.fixture
def node(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'pki.db'}")
    ensure_schema(db)
    make_world(db)
    return db


def _run(db: Database, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--db", db.url, *args])
    return result.exit_code, result.output


def test_network_ca_issues_a_certificate_that_its_counterpart_can_trust(node: Database, tmp_path: Path) -> None:
    code, out = _run(node, "keys", "ca", "create", "IberRed demo CA", "--country", "ES",
                     "--out", str(tmp_path / "ca.pem"))
    assert code == 0, out
    code, out = _run(node, "keys", "cert", "issue", "CO-FGN")
    assert code == 0 and "issued to CO-FGN" in out, out
    [ca_row] = pki.trust_list(node)  # its own CA is trusted at once
    identity = pki.signing_identity(node, "CO-FGN")
    assert identity is not None and identity.chain[0].fingerprint is not None
    assert pki.fingerprint(identity.chain[0]) == ca_row.fingerprint

    code, out = _run(node, "keys", "cert", "export", "CO-FGN", "--out", str(tmp_path / "chain.pem"))
    assert code == 0
    assert (tmp_path / "chain.pem").read_bytes().count(b"BEGIN CERTIFICATE") == 2

    # A second certificate replaces the first for new signatures; the first stays, retired.
    _run(node, "keys", "cert", "issue", "CO-FGN")
    rows = [r for r in pki.list_certificates(node) if r.role == "signing"]
    assert len(rows) == 2 and sum(r.retired_at is None for r in rows) == 1


def test_issue_without_a_network_ca_says_how_to_get_one(node: Database) -> None:
    code, out = _run(node, "keys", "cert", "issue", "CO-FGN")
    assert code == 1 and "keys ca create" in out


def test_pkcs12_with_a_wrong_password_is_refused_and_nothing_is_written(node: Database, test_pki: PkiFixture,
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(test_pki.p12(test_pki.requesting, "right"))
    monkeypatch.setenv("EXHORTO_P12_PASSWORD", "wrong")
    code, out = _run(node, "keys", "cert", "import-p12", "CO-FGN", str(p12))
    assert code == 2 and "wrong password" in out
    assert pki.list_certificates(node) == []
    monkeypatch.setenv("EXHORTO_P12_PASSWORD", "right")
    assert _run(node, "keys", "cert", "import-p12", "NO-SUCH", str(p12))[0] == 1  # unknown authority
    assert pki.list_certificates(node) == []
    assert _run(node, "keys", "cert", "import-p12", "CO-FGN", str(p12))[0] == 0


def test_crl_must_come_from_a_trusted_ca_and_revokes_what_it_lists(node: Database, test_pki: PkiFixture,
                                                                    tmp_path: Path) -> None:
    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(test_pki.crl.public_bytes(Encoding.DER))
    code, out = _run(node, "keys", "crl", "import", str(crl_file))
    assert code == 2 and "not signed by a CA on the trust list" in out
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(test_pki.ca_pem())
    assert _run(node, "keys", "trust", "add", str(ca_file), "--label", "test CA")[0] == 0
    code, out = _run(node, "keys", "crl", "import", str(crl_file))
    assert code == 0 and "1 revoked" in out, out
    trusted, crls = pki.trust_material(node)
    assert len(trusted) == 1 and len(crls) == 1

    fingerprint = pki.fingerprint(test_pki.ca.certificate)
    assert _run(node, "keys", "trust", "remove", "abc")[0] == 2  # too short to be unambiguous
    assert _run(node, "keys", "trust", "remove", fingerprint[:12])[0] == 0
    assert pki.trust_list(node) == []


def test_not_a_certificate_is_a_clear_error(node: Database, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    code, out = _run(node, "keys", "trust", "add", str(junk))
    assert code == 2 and "Traceback" not in out


def test_private_keys_need_the_passphrase_that_sealed_them(node: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    row = pki.create_ca(node, "CA")
    from engine.pki._seal import _cache

    _cache.clear()
    monkeypatch.setenv("EXHORTO_KEY_PASSPHRASE", "another passphrase")
    with pytest.raises(WrongPassphrase):
        pki.identity_of(row)
    with pytest.raises(InvalidInput):
        _x509.load_pkcs12(b"not a p12", None)
