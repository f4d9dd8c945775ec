"""`exhorto keys ca|cert|trust|crl …`: X.509 identities of the authorities and the trust list (see
docs/signatures.md). Private keys are sealed with EXHORTO_KEY_PASSPHRASE, as the Ed25519 keys are."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from engine.cli._common import STATE, fail

ca_app = typer.Typer(help="The network CA of a closed network or a demo.", no_args_is_help=True)
cert_app = typer.Typer(help="Authorities' signing certificates (X.509, for PAdES and evidences).",
                       no_args_is_help=True)
trust_app = typer.Typer(help="Counterparts' CAs and certificates whose signatures this node trusts.",
                        no_args_is_help=True)
crl_app = typer.Typer(help="Certificate revocation lists of trusted CAs.", no_args_is_help=True)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise fail(f"{path}: no such file", 2) from None


@ca_app.command("create")
def ca_create(name: str = typer.Argument(..., help="the CA's common name, e.g. 'IberRed demo CA'"),
              country: str | None = typer.Option(None, help="ISO 3166-1 alpha-2"),
              organization: str | None = typer.Option(None, help="organisation (O) of the CA's name"),
              years: int = typer.Option(10, min=1, max=30, help="validity in years"),
              out: Path | None = typer.Option(None, help="also write the CA certificate (PEM) here")) -> None:
    """Create a network CA (ECDSA P-256); it is added to this node's trust list."""
    from engine import pki

    row = pki.create_ca(STATE.db(), name, country=country, organization=organization, years=years)
    if out:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        out.write_bytes(x509.load_der_x509_certificate(row.certificate).public_bytes(Encoding.PEM))
    typer.echo(f"CA {row.subject} created, fingerprint {row.fingerprint}")


@cert_app.command("issue")
def cert_issue(authority: str = typer.Argument(..., help="authority served by this node, e.g. ES-MJ"),
               ca: str | None = typer.Option(None, help="fingerprint (prefix) of the issuing CA; default: newest"),
               years: int = typer.Option(3, min=1, max=10, help="validity in years")) -> None:
    """Issue the authority a signing certificate from this node's network CA."""
    from engine import pki

    row = pki.issue_certificate(STATE.db(), authority, ca=ca, years=years)
    typer.echo(f"certificate {row.fingerprint} issued to {authority} ({row.subject}), valid until "
               f"{row.not_after:%Y-%m-%d}")


@cert_app.command("import-p12")
def cert_import_p12(authority: str = typer.Argument(..., help="authority served by this node, e.g. ES-MJ"),
                    file: Path = typer.Argument(..., help="PKCS#12 (.p12/.pfx) with the key and certificate"),
                    password_env: str = typer.Option("EXHORTO_P12_PASSWORD",
                                                     help="environment variable holding the file's password")
                    ) -> None:
    """Use a certificate + key from a PKCS#12 file (e.g. a qualified seal) as the authority's signing identity."""
    from engine import pki

    row = pki.import_pkcs12(STATE.db(), authority, _read(file), os.environ.get(password_env))
    typer.echo(f"certificate {row.fingerprint} ({row.subject}) now signs for {authority}")


@cert_app.command("export")
def cert_export(authority: str = typer.Argument(..., help="authority served by this node, e.g. ES-MJ"),
                out: Path | None = typer.Option(None, help="write the PEM here instead of stdout")) -> None:
    """The authority's signing certificate and its issuers (PEM), for counterparts' trust lists."""
    from engine import pki

    pem = pki.export_chain(STATE.db(), authority)
    if out:
        out.write_bytes(pem)
        typer.echo(f"certificate chain written to {out}")
    else:
        typer.echo(pem.decode(), nl=False)


@cert_app.command("list")
def cert_list() -> None:
    """This node's certificates: CAs and signing identities (retired ones still verify what they signed)."""
    from engine import pki

    for row in pki.list_certificates(STATE.db()):
        state = f"retired {row.retired_at:%Y-%m-%d}" if row.retired_at else "current"
        typer.echo(f"{row.fingerprint[:16]} {row.role:7} {row.authority_code or '-':10} {state:18} "
                   f"until {row.not_after:%Y-%m-%d} {row.subject}")


@trust_app.command("add")
def trust_add(file: Path = typer.Argument(..., help="certificate(s), PEM or DER"),
              label: str = typer.Option("", help="a name to recognise it by")) -> None:
    """Trust a counterpart's CA (or single certificate)."""
    from engine import pki

    for row in pki.trust_add(STATE.db(), _read(file), label):
        typer.echo(f"trusted {row.fingerprint[:16]} {row.subject}")


@trust_app.command("list")
def trust_list() -> None:
    """The trust list, with each entry's validity."""
    from engine import pki

    for row in pki.trust_list(STATE.db()):
        kind = "CA" if row.is_ca else "cert"
        typer.echo(f"{row.fingerprint[:16]} {kind:4} {row.not_before:%Y-%m-%d}..{row.not_after:%Y-%m-%d} "
                   f"{row.label or row.subject}")


@trust_app.command("remove")
def trust_remove(fingerprint: str = typer.Argument(..., help="fingerprint or a unique prefix (≥ 8 hex)")) -> None:
    """Stop trusting a certificate."""
    from engine import pki

    row = pki.trust_remove(STATE.db(), fingerprint)
    typer.echo(f"no longer trusted: {row.fingerprint[:16]} {row.subject}")


@crl_app.command("import")
def crl_import(file: Path = typer.Argument(..., help="CRL, PEM or DER, signed by a trusted CA")) -> None:
    """Keep a trusted CA's revocation list; signatures by certificates it revokes stop being trusted."""
    from engine import pki

    row = pki.import_crl(STATE.db(), _read(file))
    typer.echo(f"CRL of {row.issuer_fingerprint[:16]} imported: {row.revoked_count} revoked, "
               f"issued {row.this_update:%Y-%m-%d %H:%M}")


def register(keys_app: typer.Typer) -> None:
    keys_app.add_typer(ca_app, name="ca")
    keys_app.add_typer(cert_app, name="cert")
    keys_app.add_typer(trust_app, name="trust")
    keys_app.add_typer(crl_app, name="crl")
