"""Federation over HTTP: post the signed transmission to the recipient node's ``/inbox``.

Connection failures, timeouts, 5xx answers and unverifiable receipts raise :class:`TransportError`, so the outbox
keeps the message and retries with backoff; a signed receipt (positive or negative) settles it.
"""

from __future__ import annotations

import httpx

from engine.store.db import Database
from engine.store.models import Authority
from engine.transport.base import TransportError
from engine.transport.envelope import Envelope, Receipt
from engine.transport.local import LocalTransport
from engine.transport.sender import accept_receipt, hub_authority, not_deliverable, prepare

CONTENT_TYPE = "application/json"


class HttpTransport:
    def __init__(self, db: Database, *, client: httpx.Client | None = None, timeout: float = 30.0) -> None:
        self.db = db
        self._client = client
        self.timeout = timeout

    @property
    def client(self) -> httpx.Client:
        if self._client is None:  # created on first use: hub-only dispatches never open one
            from engine.transport.tls import client_verify

            # TLS from EXHORTO_TLS_* (CA of counterparts, client certificate for mutual TLS); httpx defaults else
            self._client = httpx.Client(timeout=self.timeout, verify=client_verify())
        return self._client

    def endpoint(self, authority: str) -> str:
        with self.db.reader() as session:
            row = session.get(Authority, authority)
        if row is None or not row.endpoint_url:
            raise TransportError(f"not deliverable: no endpoint URL registered for {authority}")
        return row.endpoint_url

    def deliver(self, envelope: Envelope) -> Receipt:
        url = self.endpoint(envelope.recipient)
        transmission = prepare(self.db, envelope)
        try:
            response = self.client.post(url, content=transmission.to_bytes(),
                                        headers={"Content-Type": CONTENT_TYPE})
        except httpx.HTTPError as error:
            raise TransportError(f"{url}: {type(error).__name__}: {error}") from None
        if response.status_code >= 500:
            raise TransportError(f"{url}: HTTP {response.status_code}")
        return accept_receipt(self.db, transmission, response.content)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class NodeTransport:
    """What a node's dispatcher uses: authorities served by this node (and hub authorities, see
    :func:`engine.transport.sender.hub_authority`) are delivered locally, the others over HTTP to their registered
    endpoint. A counterpart without an endpoint is not deliverable: :class:`TransportError` with the reason, so
    the message stays queued, is retried, and is never counted as delivered."""

    def __init__(self, db: Database, *, client: httpx.Client | None = None, timeout: float = 30.0) -> None:
        self.db = db
        self.local = LocalTransport(db)
        self.http = HttpTransport(db, client=client, timeout=timeout)

    def deliver(self, envelope: Envelope) -> Receipt:
        with self.db.reader() as session:
            local = hub_authority(session, envelope.recipient)
            problem = None if local else not_deliverable(session, envelope.recipient)
        if problem is not None:
            raise TransportError(problem)
        return self.local.deliver(envelope) if local else self.http.deliver(envelope)

    def close(self) -> None:
        self.http.close()
