"""Per-request plumbing of the web UI: who is logged in, in which language, the CSRF check on every POST, the
session cookie written back, and the engine's errors turned into pages (another authority's case → 404)."""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import ExhortoError, ForeignCase, InvalidInput, NotFound
from engine.guards import Actor
from engine.i18n import N_, accept_language, check_language, is_language, negotiate, translate
from engine.lifecycle import Role
from engine.store.db import Database
from engine.store.models import User
from engine.web import session as sessions
from engine.web.render import render_template

PREFIX = "/web"
DONE = N_("Done: {action}.")
# Flash kinds whose text is already translated (it names authorities and states): shown as success / error.
SAID = {"said": "success", "said-error": "error"}
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
MAX_UPLOAD_ENV = "EXHORTO_WEB_MAX_UPLOAD_BYTES"
DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024


@dataclass
class WebConfig:
    db: Database
    secret: str | None = None  # None: EXHORTO_SECRET_KEY or the generated file, read at the first request
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    # Deliver queued messages right after an action that sends one (hub and small nodes); a node with its own
    # dispatcher may switch it off. Failures stay queued for the next dispatcher run.
    dispatch_after_send: bool = True
    secure_cookie: bool = False

    def secret_key(self) -> str:
        if self.secret is None:
            self.secret = sessions.load_secret(sessions.default_secret_file(self.db.url))
        return self.secret


def config_from_env(db: Database, **overrides: Any) -> WebConfig:
    values: dict[str, Any] = {
        "db": db,
        "max_upload_bytes": int(os.environ.get(MAX_UPLOAD_ENV, DEFAULT_MAX_UPLOAD)),
        "secure_cookie": os.environ.get("EXHORTO_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return WebConfig(**values)


class LoginRequired(Exception):
    pass


class CsrfRejected(Exception):
    pass


class PageNotFound(Exception):
    pass


class PayloadTooLarge(Exception):
    pass




@dataclass
class WebContext:
    request: Request
    config: WebConfig
    session: sessions.SessionData
    user: User | None = None
    lang: str = "en"
    dirty: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.config.db

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise LoginRequired()
        return Actor(
            username=self.user.username,
            authority_code=self.user.authority_code,
            role=Role(self.user.role),
            language=self.lang,
        )

    def _(self, msgid: str) -> str:
        return translate(self.lang, msgid)

    def flash(self, kind: str, msgid: str) -> None:
        self.session.flash.append((kind, msgid))
        self.dirty = True

    def flash_said(self, text: str, *, error: bool = False) -> None:
        """A confirmation (or a failure) already worded in the reader's language."""
        self.flash("said-error" if error else "said", text)

    def url(self, path: str) -> str:
        return PREFIX + path

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        flashes = [
            ("success", self._(DONE).format(action=self._(msgid))) if kind == "done"
            else (SAID[kind], msgid) if kind in SAID else (kind, self._(msgid))
            for kind, msgid in self.session.flash
        ]
        if self.session.flash:
            self.session.flash = []
            self.dirty = True
        html = render_template(
            template,
            lang=self.lang,
            user=self.user,
            csrf=self.session.csrf,
            flashes=flashes,
            path=self.request.url.path,
            prefix=PREFIX,
            query=self.request.url.query,
            max_upload=self.config.max_upload_bytes,
            **values,
        )
        return HTMLResponse(html, status_code=status_code)

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(self.url(path), status_code=303)


def _choose_language(ctx: WebContext) -> str:
    if is_language(ctx.session.lang):  # a session from before the pt split may hold "pt"
        return check_language(ctx.session.lang)
    preferences = accept_language(ctx.request.headers.get("accept-language"))
    if preferences:
        return negotiate(preferences)
    return negotiate(ctx.user.preferred_language if ctx.user else None)


def build_context(request: Request) -> WebContext:
    config: WebConfig = request.app.state.exhorto_web
    data = sessions.decode(request.cookies.get(sessions.COOKIE), config.secret_key())
    # No valid cookie yet: start an anonymous session (its CSRF token protects the login form too).
    ctx = WebContext(request=request, config=config, session=data or sessions.SessionData(), dirty=data is None)
    if ctx.session.user:
        with config.db.reader() as db_session:
            from sqlmodel import select

            user = db_session.exec(select(User).where(User.username == ctx.session.user)).first()
        # A deactivated user, or one whose password changed or who logged out since, is logged out.
        if (
            user is not None
            and user.active
            and sessions.session_fingerprint(user) == ctx.session.fingerprint
        ):
            ctx.user = user
        else:
            ctx.session = sessions.SessionData()
            ctx.dirty = True
    ctx.lang = _choose_language(ctx)
    request.state.web = ctx
    return ctx


def web_context(request: Request) -> WebContext:
    return request.state.web  # type: ignore[no-any-return]


class WebRoute(APIRoute):
    """Every UI route: builds the context, rejects POSTs without the session's CSRF token, writes the session
    cookie back and turns errors into localized pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            ctx = build_context(request)
            try:
                if request.method == "POST":
                    await _check_post(ctx)
                response = await handler(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)
            except CsrfRejected:
                response = _problem(
                    ctx,
                    403,
                    N_("The form has expired or did not come from this site. Reload the page and try again."),
                )
            except PayloadTooLarge:
                response = _problem(ctx, 413, N_("The upload is too large."))
            except (PageNotFound, NotFound, ForeignCase):
                # Another authority's case is answered exactly like a case that does not exist.
                response = _problem(ctx, 404, N_("The page or case you asked for does not exist."))
            except ExhortoError as error:
                response = _problem(ctx, 400, error.template, error)
            _write_cookie(ctx, response)
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if response.media_type == "text/html":  # a policy on a PDF would stop the browser's viewer
                response.headers.setdefault("Content-Security-Policy", CSP)
            return response

        return route


async def _check_post(ctx: WebContext) -> None:
    limit = ctx.config.max_upload_bytes + 1024 * 1024
    length = ctx.request.headers.get("content-length")
    if length and length.isdigit():
        if int(length) > limit:
            raise PayloadTooLarge()
    else:
        await _read_capped(ctx.request, limit)
    try:
        form = await ctx.request.form(max_files=20, max_fields=5000)
    except StarletteHTTPException as error:
        # Starlette's multipart parser refuses a field over 1 MiB (or too many parts) with a bare English 400:
        # say it as the input boundary does, on a page in the user's language.
        from engine.forms import MAX_BYTES, size_refused

        if "maximum size" in str(error.detail):
            size = int(length) if length and length.isdigit() else MAX_BYTES + 1
            raise size_refused(size, MAX_BYTES, ctx.lang) from error
        raise InvalidInput(field="form", reason=str(error.detail)) from error
    token = form.get("csrf_token")
    if not ctx.session.csrf_ok(token if isinstance(token, str) else None):
        raise CsrfRejected()


async def _read_capped(request: Request, limit: int) -> None:
    """A body without a (numeric) Content-Length — chunked — is read up to ``limit`` bytes and refused beyond it,
    so the cap holds before anything is parsed or spooled; the form parser then reads the buffered body."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge()
    request._body = bytes(body)  # Starlette's own cache: stream() and form() read it from here


def _problem(ctx: WebContext, status: int, msgid: str, error: ExhortoError | None = None) -> Response:
    message = error.message(ctx.lang) if error is not None else ctx._(msgid)
    return ctx.render("error.html.j2", status_code=status, status=status, message=message)


def _write_cookie(ctx: WebContext, response: Response) -> None:
    if not ctx.dirty:
        return
    response.set_cookie(
        sessions.COOKIE,
        sessions.encode(ctx.session, ctx.config.secret_key()),
        max_age=sessions.MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=ctx.config.secure_cookie or ctx.request.url.scheme == "https",
        path=PREFIX,
    )


def set_language(ctx: WebContext, language: str) -> None:
    ctx.session.lang = check_language(language)
    ctx.lang = ctx.session.lang
    ctx.dirty = True
