"""RFC 9457 problem details for every error the API returns, localized through Accept-Language."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import errors
from engine.api.deps import request_language
from engine.forms import InvalidDocument, UnknownForm, too_large
from engine.i18n import UnsupportedLanguage
from engine.keys import KeyProblem
from engine.privacy._errors import AccessLogUnavailable
from engine.tokens import InvalidToken

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://exhorto.eu/problems/"

# First matching class wins: specific before general.
STATUS: tuple[tuple[type[errors.ExhortoError], int], ...] = (
    (InvalidToken, 401),
    (errors.NotFound, 404),
    (errors.ForeignCase, 404),
    (errors.RoleNotAllowed, 403),
    (errors.FormInvalid, 422),
    (errors.GuardFailed, 422),
    (errors.InvalidInput, 422),
    (errors.UnknownAction, 422),
    (errors.TransitionRefused, 409),
    (errors.Conflict, 409),
    (errors.MessageRejected, 422),
    (UnknownForm, 404),
    (InvalidDocument, 422),
    (KeyProblem, 503),
    (AccessLogUnavailable, 503),
)


# The problem+json shape, inline (no component references) so that every operation carries it whole.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}, "code": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["pointer", "code", "message"],
                                              "properties": {"pointer": {"type": "string"},
                                                             "code": {"type": "string"},
                                                             "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}
_PROBLEM_CONTENT = {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}
# Declared on every operation of the app: what any route can answer besides its success.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": _PROBLEM_CONTENT}
    for status, description in (
        (401, "missing, unknown, expired or revoked token"),
        (403, "your role may not do this"),
        (404, "not found (also: another authority's case)"),
        (405, "method not allowed (see the Allow header)"),
        (409, "the case changed since the version you read, or the action is not allowed now"),
        (413, "request body too large"),
        (422, "invalid input: see errors (pointer, code, message)"),
        (429, "too many failed authentications (see Retry-After)"),
        (503, "database unavailable (see Retry-After)"),
    )
}


def status_for(error: errors.ExhortoError) -> int:
    if isinstance(error, InvalidDocument) and too_large(error):
        return 413
    return next((status for cls, status in STATUS if isinstance(error, cls)), 400)


def problem(status: int, code: str, detail: str, request: Request, **extra: Any) -> JSONResponse:
    body = {"type": TYPE_BASE + code, "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
            "instance": request.url.path, "code": code, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _exhorto_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, errors.ExhortoError)
    lang = request_language(request)
    if isinstance(error, errors.ForeignCase):  # never confirm that another authority's case exists
        error = errors.CaseNotFound(case=str(request.path_params.get("case_id", error.params.get("case"))))
    data = error.as_dict(lang)
    data.pop("message", None)
    code = data.pop("code")
    return problem(status_for(error), code, error.message(lang), request, **data)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    items = [{"pointer": "/" + "/".join(str(p) for p in e.get("loc", ())), "code": e.get("type", "invalid"),
              "message": e.get("msg", "")} for e in error.errors()]
    return problem(422, "request_invalid", "The request is not valid: see errors.", request, errors=items)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = {401: "invalid_token", 404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    response = problem(error.status_code, code, str(error.detail), request)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    if error.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method the published document serves at this path (Starlette names only the first matching
    route's methods)."""
    path = request.url.path
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)), path):
            methods |= {m.upper() for m in operations if m in _HTTP_METHODS}
    return sorted(methods)


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


async def _language_error(request: Request, error: Exception) -> JSONResponse:
    return problem(422, "unsupported_language", str(error), request)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    return problem(500, "internal_error", "Unexpected server error; it has been logged.", request)


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.ExhortoError, _exhorto_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(UnsupportedLanguage, _language_error)
    app.add_exception_handler(Exception, _unexpected)
