"""Who is looking at a page: the signed-in actor from the session cookie, found exactly as the API finds it
(:func:`pipeline.entry.api.auth.cookie_name` and :func:`pipeline.app.auth_sessions.lookup_session`), but a page
without a session redirects to the sign-in form instead of answering 401. API tokens are not accepted here: a
page is for a browser. Forms carry the session's CSRF token in a hidden ``csrf_token`` field (the API's
``X-CSRF-Token`` header cannot be set by a plain form); the sign-in form, which has no session yet, is
protected by a double-submit cookie."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from pipeline.app.auth_sessions import csrf_ok, lookup_session
from pipeline.core.actor import AccessDenied
from pipeline.core.vocabulary import Role
from pipeline.entry.api.auth import Caller, cookie_name
from pipeline.entry.api.common import call, context
from pipeline.entry.api.logs import ACTOR

CSRF_FIELD = "csrf_token"
LOGIN_CSRF_COOKIE = "archive_login_csrf"  # double-submit token of the sign-in form (no session yet)


def login_cookie(secure: bool) -> str:
    """``__Host-`` when Secure: pinned to this host and path /, so neither a sibling subdomain nor a plain-HTTP
    man in the middle can plant a known token (and sign the victim in to the attacker's account)."""
    return f"__Host-{LOGIN_CSRF_COOKIE}" if secure else LOGIN_CSRF_COOKIE
LOGIN_PATH = "/login"


class LoginRequired(Exception):
    """No live session: the page answers 303 to ``/login?next=<this page>``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfRefused(Exception):
    """A POST without the session's (or the sign-in form's) CSRF token: the 403 page."""


def safe_next(value: str | None, *, allow_login: bool = False) -> str:
    """A same-site relative path to return to after sign-in, else ``/``: one leading slash (``//host`` and
    ``/\\host`` are other sites to a browser), no scheme or host, no control characters, never the sign-in
    page itself (unless ``allow_login``: the language switch may return to it)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2000:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or (parts.path.startswith(LOGIN_PATH) and not allow_login):
        return "/"
    return value


def login_url(next_url: str) -> str:
    target = safe_next(next_url)
    return LOGIN_PATH if target == "/" else f"{LOGIN_PATH}?next={quote(target, safe='/')}"


def this_page(request: Request) -> str:
    """The path and query of the request (where to come back to)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def optional_caller(request: Request) -> Caller | None:
    """The signed-in caller from the session cookie, or None (no cookie, an ended or unknown session)."""
    cached = getattr(request.state, "who", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    session_id = request.cookies.get(cookie_name(request.app.state.cookie_secure))
    if not session_id:
        return None
    session = await call(lookup_session, context(request), session_id)
    if session is None:
        return None
    ACTOR.set(session.actor.name)
    who = Caller(session.actor, session, session_id)
    request.state.who = who
    return who


async def page_caller(request: Request) -> Caller:
    """Dependency of every page: the signed-in caller, else a redirect to the sign-in form. A POST must also
    carry the session's CSRF token in the form (checked here, so no form handler can forget it)."""
    who = await optional_caller(request)
    if who is None:
        raise LoginRequired(this_page(request) if request.method == "GET" else "/")
    if request.method not in ("GET", "HEAD") and not await form_csrf_ok(request, who):
        raise CsrfRefused()
    return who


async def form_csrf_ok(request: Request, who: Caller) -> bool:
    """True when the request's form has the session's CSRF token in ``csrf_token`` (urlencoded or multipart:
    Starlette caches the parsed form, so the handler reads it again for free)."""
    if who.session is None:
        return False
    form = await request.form()
    return csrf_ok(who.session, form.get(CSRF_FIELD))


PageCaller = Annotated[Caller, Depends(page_caller)]


def require_role(who: Caller, role: Role, action: str) -> None:
    """The page's role check (the use cases check again): :class:`AccessDenied` → the 403 page."""
    if not who.actor.has(role):
        raise AccessDenied(f"user {who.actor.name!r} may not {action} (needs the {role.value} role)")


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def login_token_ok(request: Request, field: object) -> bool:
    """The sign-in form's double-submit check: the hidden field equals the cookie set with the form (a
    cross-site page can post the form but can neither read nor set that cookie)."""
    cookie = request.cookies.get(login_cookie(request.app.state.cookie_secure))
    return (isinstance(field, str) and bool(field) and bool(cookie)
            and hmac.compare_digest(field.encode("utf-8"), str(cookie).encode("utf-8")))
