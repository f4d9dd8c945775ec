"""The writes of every case's life (``POST /cases``, ``POST /cases/{case_id}/actions``) dispatched without
FastAPI's router.

Under saturated load FastAPI's routing was a tenth of what the node spent on a write outside the engine (issue 19):
its router tries each route's pattern in turn (``_match`` over ~10 routes, each through FastAPI's effective-route
bookkeeping), then its request handler opens two exit stacks, solves the route's (empty) dependencies and wraps the
endpoint in a second exception layer. These routes need none of it: they read their token, id, key and body
themselves (``engine.api.deps.request_writer``, ``engine.api.boundary.request_body``) and return a finished
``Response``. :class:`HotRoutes` sits where the router is, inside every middleware and inside Starlette's
``ExceptionMiddleware``: a request whose method and path match one of them is answered by the endpoint at once,
with the scope FastAPI would have given it (``path_params``, ``endpoint``, ``route``); its errors reach the app's
exception handlers as before. Every other request goes to the router unchanged. The routes stay declared on the
router, so the OpenAPI document and the router's own answers (405, redirects) are what they were.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.convertors import Convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class HotRoutes:
    def __init__(self, app: ASGIApp, router: Any, routes: list[tuple[str, re.Pattern[str],
                                                                     dict[str, Convertor[Any]], APIRoute]]) -> None:
        self.app, self.router, self.routes = app, router, routes
        self.methods = frozenset(method for method, *_ in routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in self.methods:
            path = get_route_path(scope)
            for method, pattern, convertors, route in self.routes:
                found = pattern.match(path)
                if found is None or scope["method"] != method:
                    continue
                params = {name: convertors[name].convert(value) for name, value in found.groupdict().items()}
                scope["path_params"] = {**scope.get("path_params", {}), **params}
                scope["endpoint"], scope["route"] = route.endpoint, route
                scope.setdefault("router", self.router)
                response = await route.endpoint(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def effective_routes(app: FastAPI) -> Iterator[Any]:
    """The app's API routes as its router matches them: an included router's routes with their prefix and the
    dependencies of the inclusion (FastAPI keeps included routers whole and resolves them per request), each
    with ``path_regex``, ``param_convertors``, ``methods``, ``dependencies``, ``dependant`` and
    ``original_route``."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from (c for c in contexts() if isinstance(c.original_route, APIRoute))
        elif isinstance(route, APIRoute):
            yield _Plain(route)


class _Plain:
    """An APIRoute declared on the app itself, seen as an included one."""

    def __init__(self, route: APIRoute) -> None:
        self.original_route = route
        self.path, self.path_regex, self.param_convertors = route.path, route.path_regex, route.param_convertors
        self.methods, self.dependencies, self.dependant = route.methods, route.dependencies, route.dependant


def _reads_itself(route: Any) -> bool:
    """An ``async def endpoint(request: Request) -> Response`` without dependencies: nothing for FastAPI to solve."""
    endpoint = route.original_route.endpoint
    parameters = list(inspect.signature(endpoint).parameters.values())
    return (inspect.iscoroutinefunction(endpoint) and len(parameters) == 1
            and parameters[0].annotation in (Request, "Request") and not route.dependencies
            and not route.dependant.dependencies and route.dependant.request_param_name == parameters[0].name)


def install(app: FastAPI, endpoints: Iterable[Endpoint]) -> None:
    """Dispatch the routes of ``endpoints`` directly (see the module's text). Each must be declared on ``app``
    with one method, take only the request and have no dependencies: anything else is refused here, at startup,
    rather than silently losing a check FastAPI would have made."""
    wanted = set(endpoints)
    routes = []
    for route in effective_routes(app):
        endpoint = route.original_route.endpoint
        if endpoint in wanted:
            if len(route.methods) != 1 or not _reads_itself(route):
                raise ValueError(f"{route.path}: only a route of one method whose endpoint takes the request alone "
                                 "and has no dependencies can be dispatched directly")
            routes.append((next(iter(route.methods)), route.path_regex, route.param_convertors,
                           route.original_route))
            wanted.discard(endpoint)
    if wanted:
        raise ValueError(f"not routes of this app: {sorted(e.__name__ for e in wanted)}")
    app.router.middleware_stack = HotRoutes(app.router.middleware_stack, app.router, routes)


__all__ = ["HotRoutes", "install"]
