"""Production hardening of the node's app: security headers, failed-login limiting, database outages as 503.

Installed by the app factory on every app (REST API, federation inbox, web UI):

* every response carries the usual browser protections (no sniffing, no framing, no referrer leaks, a strict
  Content-Security-Policy outside the OpenAPI pages, HSTS over HTTPS) and ``Cache-Control: no-store``, since
  case data must not linger in shared caches;
* failed authentications (HTTP 401 from ``POST /web/login`` or from a bearer token) are counted twice: by the
  credential's principal (the user name given, or the token's first 12 characters) and, with a much higher
  limit, by client address. A principal over its limit is answered 429 with ``Retry-After`` before any secret
  is checked. An address over its limit gets 429 for passwords before they are checked, and for bearer
  tokens only when the token turns out invalid: a valid token is never refused because other people behind
  the same address (an office NAT) failed;
* a lost database connection is a 503 problem with ``Retry-After`` instead of a 500.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.deps import request_language
from engine.api.problems import problem
from engine.idempotency import DatabaseUnavailable, IdempotencyKeyReused, lost_connection
from engine.ops.ratelimit import AuthLimiter, FailureLimiter, Limits

LOGIN_PATH = "/web/login"
# Swagger UI and ReDoc load their scripts from a CDN: a strict policy would blank those pages.
_NO_CSP_PREFIXES = ("/docs", "/redoc")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
RETRY_AFTER_OUTAGE = "5"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_LOGIN_BODY_LIMIT = 65_536
_BEARER = "bearer "


def _bearer_principal(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(_BEARER):
        return None
    return "token:" + header[len(_BEARER):].strip()[:12]


async def _login_principal(request: Request) -> tuple[str, bytes]:
    """The user name posted to the login form (and the body, to hand on unchanged)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _LOGIN_BODY_LIMIT:
            break
    fields = parse_qs(bytes(body).decode("latin-1"), keep_blank_values=True) if body else {}
    username = (fields.get("username") or [""])[0].strip().lower()
    return "user:" + username, bytes(body)


def _security_headers(path: str, scheme: str) -> list[tuple[str, str]]:
    """The headers every answer at ``path`` carries, unless the route set its own."""
    headers = list(HEADERS.items())
    if not path.startswith(_NO_CSP_PREFIXES):
        headers.append(("Content-Security-Policy", CSP))
    if not path.startswith("/web/static/"):
        headers.append(("Cache-Control", "no-store"))
    if scheme == "https":
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


# Most answers are API answers over one scheme: their header lines are built once, as raw bytes (issue 19:
# MutableHeaders' setdefault scanned the answer's headers once per header, eight times per answer).
_RAW: dict[tuple[bool, bool, bool], list[tuple[bytes, bytes]]] = {}


def _raw_security_headers(path: str, scheme: str) -> list[tuple[bytes, bytes]]:
    kind = (path.startswith(_NO_CSP_PREFIXES), path.startswith("/web/static/"), scheme == "https")
    raw = _RAW.get(kind)
    if raw is None:
        raw = _RAW[kind] = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                            for name, value in _security_headers(path, scheme)]
    return raw


def _add_security_headers(message: Message, path: str, scheme: str) -> None:
    """The security headers on an ASGI ``http.response.start`` message, where the answer has not set its own, in
    one pass over its headers."""
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    headers.extend(line for line in _raw_security_headers(path, scheme) if line[0] not in present)
    message["headers"] = headers


def _too_many(request: Request, wait: float) -> JSONResponse:
    seconds = max(1, math.ceil(wait))
    response = problem(429, "too_many_failures",
                       f"Too many failed authentication attempts; try again in {seconds} seconds.", request)
    response.headers["Retry-After"] = str(seconds)
    return response


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    unavailable = error if isinstance(error, DatabaseUnavailable) else DatabaseUnavailable()
    response = problem(503, unavailable.code, unavailable.message(request_language(request)), request)
    response.headers["Retry-After"] = RETRY_AFTER_OUTAGE
    return response


async def _dbapi_error(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, DBAPIError) and lost_connection(error):
        return await _database_unavailable(request, DatabaseUnavailable())
    return problem(500, "internal_error", "Unexpected server error; it has been logged.", request)


async def _key_reused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IdempotencyKeyReused)
    return problem(422, error.code, error.message(request_language(request)), request)


class Hardening:
    """Plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` would stream every response through a task and
    a queue, a cost paid on every request): headers are added as the response starts."""

    def __init__(self, app: ASGIApp, limiter: AuthLimiter) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        # What request.url would say, without building the URL (the path as sent, percent-escapes aside, which
        # change none of the prefixes compared with).
        path, scheme = scope["path"], scope.get("scheme", "http")
        principal = _bearer_principal(request)
        login = principal is None and request.method == "POST" and path == LOGIN_PATH
        if login:
            principal, body = await _login_principal(request)
            receive = _replay(body, receive)
        if principal is None:  # no secret to check: nothing to limit
            await self.app(scope, receive, _hardened(send, path, scheme))
            return
        client = _client(request)
        wait = self.limiter.principals.retry_after(principal)
        address_wait = self.limiter.addresses.retry_after(client)
        if wait or (login and address_wait):
            await self._refuse(request, max(wait, address_wait), path, scheme, send)
            return
        replaced = False

        async def send_hardened(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the body of a 401 answered as 429 instead
            if message["type"] == "http.response.start" and message["status"] == 401:
                assert principal is not None
                self.limiter.failed(principal, client)
                if address_wait:  # an invalid token from an address over its limit
                    replaced = True
                    await self._refuse(request, address_wait, path, scheme, send)
                    return
            if message["type"] == "http.response.start":
                _add_security_headers(message, path, scheme)
            await send(message)

        await self.app(scope, receive, send_hardened)

    @staticmethod
    async def _refuse(request: Request, wait: float, path: str, scheme: str, send: Send) -> None:
        await _too_many(request, wait)(request.scope, request.receive, _hardened(send, path, scheme))


def _hardened(send: Send, path: str, scheme: str) -> Send:
    async def send_hardened(message: Message) -> None:
        if message["type"] == "http.response.start":
            _add_security_headers(message, path, scheme)
        await send(message)

    return send_hardened


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def install(app: FastAPI, limits: Limits | None = None) -> AuthLimiter:
    """Add the middleware and handlers to ``app``; returns its limiter (tests read and reset it)."""
    limiter = AuthLimiter.from_env()
    if limits is not None:
        limiter = AuthLimiter(FailureLimiter(limits), limiter.addresses)
    app.state.auth_limiter = limiter

    app.add_middleware(Hardening, limiter=limiter)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(IdempotencyKeyReused, _key_reused)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    return limiter


__all__ = ["CSP", "HEADERS", "Hardening", "install"]
