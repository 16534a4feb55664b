"""Sign-in, sign-out and the language switch. Sign-in is the application layer's :func:`sign_in` (argon2id,
rate-limited per name and per client, audited) and :func:`create_session`, the same as ``POST /api/v1/session``:
the page sets the same session cookie (HttpOnly, SameSite=Strict, Secure unless on loopback)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from pipeline.app.auth import AuthFailed, RateLimited, sign_in
from pipeline.app.auth_sessions import create_session, end_session
from pipeline.entry.api.auth import cookie_name
from pipeline.entry.api.common import call, context, plain
from pipeline.entry.api.logs import ACTOR
from pipeline.entry.web.auth import (
    LOGIN_PATH,
    PageCaller,
    login_cookie,
    login_token_ok,
    new_login_token,
    optional_caller,
    safe_next,
)
from pipeline.entry.web.messages import LANGS
from pipeline.entry.web.render import LANG_COOKIE, render
from pipeline.entry.web.routing import page_router

router = page_router()
LANG_MAX_AGE = 365 * 24 * 3600
MAX_NAME, MAX_PASSWORD = 128, 4096


def _login_form(request: Request, next_url: str, *, status: int = 200, message: str = "",
                name: str = "", **values: object) -> Response:
    """The sign-in form with a fresh double-submit token (cookie and hidden field)."""
    token = new_login_token()
    response = render(request, "login.html", status=status, who=None, next_url=next_url, login_token=token,
                      message=message, name=name, message_values=values)
    secure = request.app.state.cookie_secure
    response.set_cookie(login_cookie(secure), token, max_age=3600, path="/", secure=secure, httponly=True,
                        samesite="strict")
    return response


@router.get(LOGIN_PATH)
async def login_form(request: Request, next: str = "/") -> Response:
    target = safe_next(next)
    if await optional_caller(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_form(request, target)


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    form = await request.form()
    target = safe_next(str(form.get("next") or "/"))
    name, password = form.get("name"), form.get("password")
    if not login_token_ok(request, form.get("login_token")):
        return _login_form(request, target, status=403, message="login_expired")
    if not isinstance(name, str) or not isinstance(password, str) or not name.strip() or not password \
            or len(name) > MAX_NAME or len(password) > MAX_PASSWORD:
        return _login_form(request, target, status=401, message="login_failed")
    try:
        name = plain(name.strip())
    except ValueError:
        return _login_form(request, target, status=401, message="login_failed")
    ctx = context(request)
    client = request.client.host if request.client else ""
    try:
        who = await call(sign_in, ctx, name, password, client)
    except RateLimited as exc:
        return _login_form(request, target, status=429, message="login_limited", name=name,
                           minutes=max(1, math.ceil(exc.retry_after / 60)))
    except AuthFailed:
        return _login_form(request, target, status=401, message="login_failed", name=name)
    made = await call(create_session, ctx, who, client)
    ACTOR.set(who.name)
    secure = request.app.state.cookie_secure
    response = RedirectResponse(target, status_code=303)
    max_age = max(1, int((made.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(cookie_name(secure), made.session_id, max_age=max_age, path="/", secure=secure,
                        httponly=True, samesite="strict")
    response.delete_cookie(login_cookie(secure), path="/", secure=secure, httponly=True, samesite="strict")
    return response


@router.post("/logout")
async def logout(request: Request, who: PageCaller) -> Response:
    """Sign out (the form's CSRF token is checked by :func:`page_caller`): the session ends, the cookie goes."""
    if who.session_id:
        await call(end_session, context(request), who.session_id)
    secure = request.app.state.cookie_secure
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(cookie_name(secure), path="/", secure=secure, httponly=True, samesite="strict")
    return response


@router.get("/lang")
async def switch_language(request: Request, to: str = "vi", next: str = "/") -> Response:
    """Remember the language in the ``lang`` cookie (no sign-in needed: the sign-in form has the switch too)
    and go back to ``next`` (a relative path on this site only)."""
    target = safe_next(next, allow_login=True)
    response = RedirectResponse(target, status_code=303)
    if to in LANGS:
        response.set_cookie(LANG_COOKIE, to, max_age=LANG_MAX_AGE, path="/", secure=request.app.state.cookie_secure,
                            httponly=True, samesite="lax")
    return response
