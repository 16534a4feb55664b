"""Who is calling: an API token (``Authorization: Bearer arc_…``) or a browser session cookie (HttpOnly,
SameSite=Strict, Secure unless the service listens on loopback). A request that changes state with a session
cookie must carry the session's CSRF token in ``X-CSRF-Token``; token requests need none (a browser never adds
an Authorization header by itself). Sign-in (password, rate-limited) and sign-out are ``/api/v1/session``."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, StringConstraints

from pipeline.app.auth import sign_in
from pipeline.app.auth_sessions import SessionInfo, create_session, csrf_ok, end_session, lookup_session
from pipeline.app.auth_tokens import authenticate_token
from pipeline.core.actor import Actor
from pipeline.entry.api.common import call, context, plain
from pipeline.entry.api.errors import ApiError, ErrorBody, unauthenticated
from pipeline.entry.api.logs import ACTOR

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="An API token from `archive user token NAME`.")


def cookie_name(secure: bool) -> str:
    """``__Host-`` pins a secure cookie to this host and path / (no Domain, no plain-HTTP overwrite)."""
    return "__Host-archive_session" if secure else "archive_session"


SECURE_COOKIE = APIKeyCookie(name=cookie_name(True), auto_error=False, scheme_name="session",
                             description="Browser session (POST /api/v1/session); state-changing requests also "
                                         f"need the {CSRF_HEADER} header.")
LOOPBACK_COOKIE = APIKeyCookie(name=cookie_name(False), auto_error=False, scheme_name="session_loopback",
                               description="The session cookie when the service listens on loopback (plain HTTP).")


class Caller:
    """The authenticated actor, and the session when the request came with a cookie."""

    def __init__(self, actor: Actor, session: SessionInfo | None = None, session_id: str = "") -> None:
        self.actor, self.session, self.session_id = actor, session, session_id


async def caller(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                 secure_cookie: Annotated[str | None, Depends(SECURE_COOKIE)],
                 loopback_cookie: Annotated[str | None, Depends(LOOPBACK_COOKIE)]) -> Caller:
    ctx = context(request)
    if credentials is not None or request.headers.get("authorization"):
        token = credentials.credentials if credentials is not None else ""
        actor = await call(authenticate_token, ctx, token) if token else None
        if actor is None:  # a bad token never falls back to a cookie
            raise unauthenticated("the API token is unknown, expired or revoked")
        ACTOR.set(actor.name)
        return Caller(actor)
    session_id = secure_cookie if request.app.state.cookie_secure else loopback_cookie
    if session_id:
        session = await call(lookup_session, ctx, session_id)
        if session is not None:
            if request.method not in SAFE_METHODS and not csrf_ok(session, request.headers.get(CSRF_HEADER)):
                raise ApiError(403, "csrf", f"missing or wrong {CSRF_HEADER} header for this session")
            ACTOR.set(session.actor.name)
            return Caller(session.actor, session, session_id)
        raise unauthenticated("the session has ended: sign in again")
    raise unauthenticated()


CallerDep = Annotated[Caller, Depends(caller)]


async def actor(who: CallerDep) -> Actor:
    return who.actor


ActorDep = Annotated[Actor, Depends(actor)]

# ---- /api/v1/session -------------------------------------------------------------------------------------
router = APIRouter(prefix="/api/v1/session", tags=["session"])


def _encodable(value: str) -> str:
    if any(unicodedata.category(c) == "Cs" for c in value):
        raise ValueError("must be valid Unicode text")
    return value


class SignIn(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(plain)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=4096), AfterValidator(_encodable)]


class Me(BaseModel):
    name: str
    roles: list[str]
    clearance: str
    via: str  # "token" or "session"
    csrf_token: str | None = None
    expires_at: datetime | None = None


def _me(who: Actor, via: str, csrf: str | None = None, expires_at: datetime | None = None) -> Me:
    data = who.to_dict()
    return Me(name=who.name, roles=list(data["roles"]), clearance=who.clearance.value,  # type: ignore[call-overload]
              via=via, csrf_token=csrf, expires_at=expires_at)


ERRORS = {code: {"model": ErrorBody} for code in (401, 403, 422, 429)}


@router.post("", response_model=Me, responses=ERRORS)
async def create(body: SignIn, request: Request, response: Response) -> Me:
    """Sign in with a user name and password: sets the session cookie and returns the CSRF token that every
    state-changing request of this session must send as the X-CSRF-Token header. 401 for a wrong name or
    password (one answer for both); 429 with Retry-After after too many failures (per name and per client)."""
    ctx = context(request)
    client = request.client.host if request.client else ""
    who = await call(sign_in, ctx, body.name, body.password, client)
    made = await call(create_session, ctx, who, client)
    secure = request.app.state.cookie_secure
    max_age = max(1, int((made.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(cookie_name(secure), made.session_id, max_age=max_age, path="/", secure=secure,
                        httponly=True, samesite="strict")
    ACTOR.set(who.name)
    return _me(who, "session", made.csrf_token, made.expires_at)


@router.get("", response_model=Me, responses=ERRORS)
async def current(who: CallerDep) -> Me:
    """Who is signed in (for a session: its CSRF token and absolute end)."""
    if who.session is not None:
        return _me(who.actor, "session", who.session.csrf_token, who.session.expires_at)
    return _me(who.actor, "token")


@router.delete("", status_code=204, responses=ERRORS)
async def delete(who: CallerDep, request: Request) -> Response:
    """Sign out: ends this browser session (with a token, nothing to end) and clears the cookie."""
    if who.session_id:
        await call(end_session, context(request), who.session_id)
    response = Response(status_code=204)
    secure = request.app.state.cookie_secure
    response.delete_cookie(cookie_name(secure), path="/", secure=secure, httponly=True, samesite="strict")
    return response
