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
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

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


def security_headers(request: Request, response: Response) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    path = request.url.path
    if not path.startswith(_NO_CSP_PREFIXES):
        response.headers.setdefault("Content-Security-Policy", CSP)
    if not path.startswith("/web/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    if request.url.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


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


def install(app: FastAPI, limits: Limits | None = None) -> FailureLimiter:
    """Add the middleware and handlers to ``app``; returns its limiter (tests read and reset it)."""
    limiter = FailureLimiter(limits or Limits.from_env())
    app.state.auth_limiter = limiter

    @app.middleware("http")
    async def harden(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        client = _client(request)
        authenticating = _authenticating(request)
        wait = limiter.retry_after(client) if authenticating else 0.0
        if wait:
            response: Response = _too_many(request, wait)
        else:
            response = await call_next(request)
            if authenticating and response.status_code == 401:
                limiter.failed(client)
        security_headers(request, response)
        return response

    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)
    app.add_exception_handler(IdempotencyKeyReused, _key_reused)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    return limiter


__all__ = ["CSP", "HEADERS", "install", "security_headers"]
