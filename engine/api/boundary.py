"""The input boundary for JSON request bodies of the REST API (``engine.forms.accept_document``), run before
FastAPI parses them: a body too large, too deep, not UTF-8, with an integer beyond ±(2^53−1) or not an object is
answered 413/422 problem+json naming the field, instead of reaching the parser (RecursionError) or the canonical
JSON of the audit trail (IntegerDomainError). ``/inbox`` answers with signed receipts and applies the same
boundary itself (``engine.transport.signing.parse_transmission``); the web UI posts forms, not JSON.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api.deps import request_language
from engine.api.problems import problem
from engine.forms import MAX_BYTES, InvalidDocument, accept_document, size_refused, too_large

# Where the boundary leaves the body it parsed, for routes that validate it themselves (:func:`request_body`).
PARSED = "exhorto.json_body"
# The body wraps the payload ({"counterpart"|"action", "version", "payload"}): a little room above the payload's
# own limit, which the engine checks on the payload itself.
MAX_BODY_BYTES = MAX_BYTES + 4096
_METHODS = frozenset({"POST", "PUT", "PATCH"})
_EXEMPT_PREFIXES = ("/inbox", "/web")


def _applies(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] in _METHODS and not path.startswith(_EXEMPT_PREFIXES)


def _json_body(request: Request) -> bool:
    """A JSON body: declared so, or undeclared on a route other than a file upload (FastAPI parses those)."""
    declared = request.headers.get("content-type")
    if declared is not None:
        return "json" in declared.lower()
    return not request.url.path.endswith("/attachments")


class JsonBoundary:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _applies(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        declared = request.headers.get("content-length", "")
        body = bytearray()
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            body_too_large = True
        else:
            body_too_large = False
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    body_too_large = True
                    break
        lang = request_language(request)
        refusal: InvalidDocument | None = None
        try:
            if body_too_large:
                size = int(declared) if declared.isdigit() else len(body)
                raise size_refused(size, MAX_BODY_BYTES, lang)
            if body and _json_body(request):
                scope[PARSED] = accept_document(bytes(body), lang=lang, max_bytes=MAX_BODY_BYTES)
        except InvalidDocument as error:
            refusal = error
        if refusal is not None:
            status = 413 if too_large(refusal) else 422
            data = refusal.as_dict(lang)
            response = problem(status, refusal.code, refusal.message(lang), Request(scope),
                               errors=data["errors"])
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


M = TypeVar("M", bound=BaseModel)


_DOCUMENTED: dict[str, type[BaseModel]] = {}


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the JSON body of a route that reads it with :func:`request_body`
    (as FastAPI documents a body parameter: a reference to the model's schema, added by :func:`document_bodies`)."""
    _DOCUMENTED[model.__name__] = model
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


def document_bodies(app: FastAPI) -> None:
    """Add the schemas of the bodies documented by :func:`body_schema` to ``app``'s OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in sorted(_DOCUMENTED.items()):
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(definition.pop("$defs", {}))
                components.setdefault(name, definition)
            schema["components"]["schemas"] = dict(sorted(components.items()))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


async def request_body(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``: the object the boundary already parsed and checked, validated once by
    pydantic-core, instead of FastAPI reading and parsing it again. Errors are FastAPI's own (422, each naming
    its field under ``body``), raised after the caller's authentication as FastAPI's would have been."""
    parsed = request.scope.get(PARSED)
    try:
        if parsed is not None:
            return model.model_validate(parsed)
        raw = await request.body()
        if not raw:
            raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required",
                                           "input": None}])
        # A body the boundary left alone (declared as something other than JSON) is not parsed here either: as
        # FastAPI did, it is refused as not an object.
        return model.model_validate(raw)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in error.errors(include_url=False)]) from None

