"""Production hardening of the node's app: security headers, failed-login limiting, database outages as 503.

Installed by the app factory on every app (REST API, federation inbox, web UI):

* every response carries the usual browser protections (no sniffing, no framing, no referrer leaks, a strict
  Content-Security-Policy outside the OpenAPI pages, HSTS over HTTPS) and ``Cache-Control: no-store``, since
  case data must not linger in shared caches;
* a client whose authentication failed too often (HTTP 401 from ``POST /web/login`` or from a bearer token) is
  answered 429 with ``Retry-After`` on its next attempts, before any password is checked;
* a lost database connection is a 503 problem with ``Retry-After`` instead of a 500.
"""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.deps import request_language
from engine.api.problems import problem
from engine.idempotency import DatabaseUnavailable, IdempotencyKeyReused, lost_connection
from engine.ops.ratelimit import FailureLimiter, Limits

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


def _authenticating(request: Request) -> bool:
    """Requests that check a secret: the login form and anything sent with a bearer token."""
    if request.method == "POST" and request.url.path == LOGIN_PATH:
        return True
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def security_headers(path: str, scheme: str, headers: MutableHeaders) -> None:
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if not path.startswith(_NO_CSP_PREFIXES):
        headers.setdefault("Content-Security-Policy", CSP)
    if not path.startswith("/web/static/"):
        headers.setdefault("Cache-Control", "no-store")
    if scheme == "https":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


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

    def __init__(self, app: ASGIApp, limiter: FailureLimiter) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        client, authenticating = _client(request), _authenticating(request)
        path, scheme = request.url.path, request.url.scheme
        wait = self.limiter.retry_after(client) if authenticating else 0.0
        if wait:
            refusal = _too_many(request, wait)
            security_headers(path, scheme, refusal.headers)
            await refusal(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                security_headers(path, scheme, MutableHeaders(scope=message))
                if authenticating and message["status"] == 401:
                    self.limiter.failed(client)
            await send(message)

        await self.app(scope, receive, send_hardened)


def install(app: FastAPI, limits: Limits | None = None) -> FailureLimiter:
    """Add the middleware and handlers to ``app``; returns its limiter (tests read and reset it)."""
    limiter = FailureLimiter(limits or Limits.from_env())
    app.state.auth_limiter = limiter

    app.add_middleware(Hardening, limiter=limiter)
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(IdempotencyKeyReused, _key_reused)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    return limiter


__all__ = ["CSP", "HEADERS", "Hardening", "install", "security_headers"]
