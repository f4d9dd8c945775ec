"""TLS between nodes, configured from the environment (paths to PEM files; secrets never in arguments).

Client side — what :class:`engine.transport.http.HttpTransport` uses to reach counterpart nodes:

* ``EXHORTO_TLS_CA``: CA bundle that signs the counterparts' server certificates (default: the usual bundle);
* ``EXHORTO_TLS_CLIENT_CERT`` / ``EXHORTO_TLS_CLIENT_KEY``: this node's client certificate, for counterparts
  that require mutual TLS; ``EXHORTO_TLS_KEY_PASSWORD`` if the key is encrypted.

Server side — ``exhorto serve --tls-cert --tls-key [--tls-client-ca]`` (or ``EXHORTO_TLS_CERT``,
``EXHORTO_TLS_KEY``, ``EXHORTO_TLS_CLIENT_CA``): HTTPS, and with a client CA every connection must present a
certificate signed by it (mutual TLS). The Ed25519 signatures on envelopes stay the proof of origin either way.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

from engine.errors import InvalidInput

CA_ENV = "EXHORTO_TLS_CA"
CLIENT_CERT_ENV = "EXHORTO_TLS_CLIENT_CERT"
CLIENT_KEY_ENV = "EXHORTO_TLS_CLIENT_KEY"
KEY_PASSWORD_ENV = "EXHORTO_TLS_KEY_PASSWORD"
MINIMUM = ssl.TLSVersion.TLSv1_2


def _file(value: str | None, name: str) -> str | None:
    if not value:
        return None
    if not Path(value).is_file():
        raise InvalidInput(field=name, reason=f"no such file: {value}")
    return value


def client_verify() -> ssl.SSLContext | bool:
    """What to give httpx as ``verify``: True (its defaults) when nothing is configured, else a context with the
    configured CA and client certificate."""
    ca = _file(os.environ.get(CA_ENV), CA_ENV)
    cert = _file(os.environ.get(CLIENT_CERT_ENV), CLIENT_CERT_ENV)
    key = _file(os.environ.get(CLIENT_KEY_ENV), CLIENT_KEY_ENV)
    if not (ca or cert):
        return True
    context = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    context.minimum_version = MINIMUM
    if cert:
        context.load_cert_chain(cert, key, password=os.environ.get(KEY_PASSWORD_ENV) or None)
    return context


def server_options(cert: str | None, key: str | None, client_ca: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run``/``uvicorn.Config``: HTTPS when ``cert`` is given, mutual TLS when
    ``client_ca`` is given too. Empty (plain HTTP) without a certificate."""
    cert, key = _file(cert, "--tls-cert"), _file(key, "--tls-key")
    client_ca = _file(client_ca, "--tls-client-ca")
    if not cert:
        if key or client_ca:
            raise InvalidInput(field="--tls-cert", reason="needed with --tls-key and --tls-client-ca")
        return {}
    options: dict[str, Any] = {"ssl_certfile": cert, "ssl_keyfile": key,
                               "ssl_keyfile_password": os.environ.get(KEY_PASSWORD_ENV) or None}
    if client_ca:
        options.update(ssl_ca_certs=client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED)
    return options


__all__ = ["client_verify", "server_options"]
