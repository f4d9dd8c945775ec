"""Login, logout and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from engine.i18n import N_, is_language
from engine.web import session as sessions
from engine.web.context import WebRoute, set_language, web_context
from engine.web.passwords import check_login, revoke_sessions

router = APIRouter(route_class=WebRoute)


def _safe_next(target: str | None) -> str:
    """Only paths inside the UI: never an open redirect to another site."""
    if target and target.startswith("/web/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/web/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    ctx = web_context(request)
    return ctx.render("login.html.j2", next=_safe_next(next), error=None, username="")


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = web_context(request)
    form = await request.form()
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    # Argon2 takes ~0.1 s of CPU: in a worker thread, so that the event loop serves other requests meanwhile.
    user = await run_in_threadpool(check_login, ctx.db, username, password) if username and password else None
    if user is None:
        return ctx.render(
            "login.html.j2",
            status_code=401,
            next=target,
            username=username,
            error=ctx._(N_("Unknown user name or wrong password.")),
        )
    # A new session (new CSRF token) on login; the chosen language is kept.
    ctx.session = sessions.SessionData(
        user=user.username,
        lang=ctx.session.lang,
        fingerprint=sessions.session_fingerprint(user),
    )
    ctx.user = user
    ctx.dirty = True
    response = ctx.redirect(target.removeprefix("/web"))
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    ctx = web_context(request)
    if ctx.user is not None:  # void this user's open sessions server-side, not just this browser's cookie
        revoke_sessions(ctx.db, ctx.user.username)
    ctx.session = sessions.SessionData(lang=ctx.session.lang)
    ctx.user = None
    ctx.dirty = True
    ctx.flash("info", N_("You have logged out."))
    return ctx.redirect("/login")


@router.post("/language")
async def language(request: Request) -> Response:
    ctx = web_context(request)
    form = await request.form()
    chosen = str(form.get("lang") or "")
    if is_language(chosen):
        set_language(ctx, chosen)
    return ctx.redirect(_safe_next(str(form.get("next") or "")).removeprefix("/web"))
