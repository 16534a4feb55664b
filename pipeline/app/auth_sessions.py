"""Browser sessions, server-side: the cookie carries a random session id (256 bits), the catalog its SHA-256,
the user, the client, when it was created, last seen and ends, and the session's CSRF secret. Cookies, their
flags and the CSRF check on each form are the HTTP layer's; :func:`csrf_ok` compares in constant time.

A session ends at its absolute end (``lifetime``), after ``idle`` without a request, when its user signs out,
when the user's password is set, or (refused while so) when the user is disabled. Sessions are operational state
like the batch journal: the sign-in that precedes one is audited (``user.signin``), the session itself is not,
except ending every session of a user (``user.sessions.end``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.app.auth import AuthFailed, may_manage
from pipeline.app.context import Context
from pipeline.app.errors import NotFound
from pipeline.core.actor import Actor
from pipeline.core.record import utcnow

LIFETIME = timedelta(hours=12)
IDLE = timedelta(hours=1)
SEEN_RECORDED_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session
MAX_ID = 128


@dataclass(frozen=True)
class NewSession:
    """What the browser gets: ``session_id`` for the cookie (shown once; the catalog keeps its hash)."""

    session_id: str = field(repr=False)
    csrf_token: str = field(repr=False)
    user: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    """A live session: who, and the CSRF token its forms must carry."""

    actor: Actor
    csrf_token: str = field(repr=False)
    created_at: datetime
    expires_at: datetime  # absolute end
    ends_at: datetime  # the sooner of the absolute end and the idle end, as of this lookup


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def create_session(ctx: Context, actor: Actor, client: str = "", lifetime: timedelta = LIFETIME,
                   idle: timedelta = IDLE) -> NewSession:
    """A new session for a user who has just signed in (:func:`pipeline.app.auth.sign_in`). Always a new id (no
    session fixation); expired sessions are swept on the way."""
    user = ctx.catalog.get_user(actor.name)
    if user is None or user.disabled:
        raise AuthFailed(f"user {actor.name!r} cannot sign in")
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    row = ctx.catalog.add_session(_hash(session_id), actor.name, csrf, client[:200], now, now + lifetime,
                                  max(1, int(idle.total_seconds())))
    return NewSession(session_id, csrf, actor.name, row.expires_at)


def lookup_session(ctx: Context, session_id: str) -> SessionInfo | None:
    """The live session with this id and its user's current roles and clearance, else None (unknown, ended,
    idle too long, user disabled). Records that it was seen (at most once a minute), which keeps it from
    idling out."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_ID:
        return None
    key = _hash(session_id)
    found = ctx.catalog.find_session(key)
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.ends_at() <= now:
        ctx.catalog.delete_session(key)
        return None
    if user.disabled:
        return None
    seen = row.last_seen_at
    if seen < now - SEEN_RECORDED_EVERY:  # most requests write nothing
        ctx.catalog.touch_session(key, now, SEEN_RECORDED_EVERY)
        seen = now
    ends_at = min(row.expires_at, seen + timedelta(seconds=row.idle_seconds))
    return SessionInfo(user.actor(), row.csrf_secret, row.created_at, row.expires_at, ends_at)


def end_session(ctx: Context, session_id: str) -> bool:
    """Sign out: delete the session; False when there was none."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_ID:
        return False
    return ctx.catalog.delete_session(_hash(session_id))


def end_user_sessions(ctx: Context, actor: Actor, name: str) -> int:
    """Sign ``name`` out everywhere (admin: anyone; a user: themselves); returns how many sessions ended."""
    may_manage(actor, name, "end the sessions")
    if ctx.catalog.get_user(name) is None:
        raise NotFound(f"no user {name!r}")
    ctx.audit.record(actor.name, "user.sessions.end", name, "ok", {})
    return ctx.catalog.delete_user_sessions(name)


def csrf_ok(session: SessionInfo, token: object) -> bool:
    """True when ``token`` (from a form field or header) is the session's CSRF token (constant-time)."""
    return isinstance(token, str) and bool(token) and hmac.compare_digest(session.csrf_token.encode("utf-8"),
                                                                          token.encode("utf-8"))
