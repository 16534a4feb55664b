"""Credential queries: password hashes, API tokens, browser sessions and the sign-in throttle.

Like the users, these live only in the catalog (never in S3 or the audit trail): a catalog rebuilt from S3 has
none of them, so every password, token and session must be issued again (fail closed). Secrets are stored as
hashes only: argon2 for passwords (made by the application layer), SHA-256 for tokens and session ids (256
random bits each, so a fast hash is enough and lets a token be found by its hash).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from pipeline.catalog._sql import insert_for
from pipeline.catalog.errors import NotFound
from pipeline.catalog.models import ApiToken, SignInThrottle, User, WebSession
from pipeline.catalog.rows import UserRow
from pipeline.catalog.users import to_row as user_row


@dataclass(frozen=True)
class TokenRow:
    """An API token as listed (no hash, no token)."""

    id: str
    user_name: str
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``active`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class SessionRow:
    """A browser session (its id is known only to the browser; the catalog keeps its hash)."""

    user_name: str
    csrf_secret: str
    client: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    idle_seconds: int

    def ends_at(self) -> datetime:
        """When it ends unless seen again: its absolute end, or the idle time after it was last seen."""
        return min(self.expires_at, self.last_seen_at + timedelta(seconds=self.idle_seconds))


def _token(t: ApiToken) -> TokenRow:
    return TokenRow(t.id, t.user_name, t.label, t.created_by, t.created_at, t.expires_at, t.last_used_at,
                    t.revoked_at)


def _session(s: WebSession) -> SessionRow:
    return SessionRow(s.user_name, s.csrf_secret, s.client, s.created_at, s.expires_at, s.last_seen_at,
                      s.idle_seconds)


# ---- passwords --------------------------------------------------------------------------------------
def set_password(session: Session, name: str, password_hash: str) -> int:
    """Set a user's password hash and end all of the user's browser sessions; returns how many ended."""
    user = session.get(User, name, with_for_update=True)
    if user is None:
        raise NotFound(f"no user {name!r}")
    user.password_hash = password_hash
    return delete_user_sessions(session, name)


def replace_password_hash(session: Session, name: str, old: str, new: str) -> bool:
    """Compare-and-set (a rehash must not undo a password changed meanwhile); True when replaced."""
    result = session.execute(update(User).where(User.name == name, User.password_hash == old)
                             .values(password_hash=new))
    return bool(result.rowcount)


# ---- API tokens -------------------------------------------------------------------------------------
def add_token(session: Session, token_id: str, user_name: str, token_hash: str, label: str, created_by: str,
              created_at: datetime, expires_at: datetime) -> TokenRow:
    if session.get(User, user_name) is None:
        raise NotFound(f"no user {user_name!r}")
    token = ApiToken(id=token_id, user_name=user_name, token_hash=token_hash, label=label, created_by=created_by,
                     created_at=created_at, expires_at=expires_at, last_used_at=None, revoked_at=None)
    session.add(token)
    session.flush()
    return _token(token)


def get_token(session: Session, token_id: str) -> TokenRow | None:
    token = session.get(ApiToken, token_id)
    return None if token is None else _token(token)


def token_id_for_hash(session: Session, token_hash: str) -> str | None:
    return session.scalar(select(ApiToken.id).where(ApiToken.token_hash == token_hash))


def find_token(session: Session, token_hash: str) -> tuple[TokenRow, UserRow] | None:
    """The token with this hash and its user."""
    found = session.execute(select(ApiToken, User).join(User, User.name == ApiToken.user_name)
                            .where(ApiToken.token_hash == token_hash)).first()
    return None if found is None else (_token(found[0]), user_row(found[1]))


def list_tokens(session: Session, user_name: str) -> list[TokenRow]:
    query = select(ApiToken).where(ApiToken.user_name == user_name).order_by(ApiToken.created_at, ApiToken.id)
    return [_token(t) for t in session.scalars(query)]


def revoke_token(session: Session, token_id: str, at: datetime) -> TokenRow | None:
    """Revoke (once: a revoked token keeps its first revocation time); None when there is no such token."""
    token = session.get(ApiToken, token_id, with_for_update=True)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = at
        session.flush()
    return _token(token)


def touch_token(session: Session, token_id: str, at: datetime, every: timedelta) -> None:
    """Record a use, at most once per ``every`` (so an API request does not always write)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id, or_(ApiToken.last_used_at.is_(None),
                                                                         ApiToken.last_used_at < at - every))
                    .values(last_used_at=at))


# ---- browser sessions -------------------------------------------------------------------------------
def add_session(session: Session, id_hash: str, user_name: str, csrf_secret: str, client: str,
                created_at: datetime, expires_at: datetime, idle_seconds: int) -> SessionRow:
    if session.get(User, user_name) is None:
        raise NotFound(f"no user {user_name!r}")
    row = WebSession(id_hash=id_hash, user_name=user_name, csrf_secret=csrf_secret, client=client,
                     created_at=created_at, expires_at=expires_at, last_seen_at=created_at,
                     idle_seconds=idle_seconds)
    session.add(row)
    session.flush()
    return _session(row)


def find_session(session: Session, id_hash: str) -> tuple[SessionRow, UserRow] | None:
    found = session.execute(select(WebSession, User).join(User, User.name == WebSession.user_name)
                            .where(WebSession.id_hash == id_hash)).first()
    return None if found is None else (_session(found[0]), user_row(found[1]))


def touch_session(session: Session, id_hash: str, at: datetime, every: timedelta) -> None:
    session.execute(update(WebSession).where(WebSession.id_hash == id_hash, WebSession.last_seen_at < at - every)
                    .values(last_seen_at=at))


def delete_session(session: Session, id_hash: str) -> bool:
    return bool(session.execute(delete(WebSession).where(WebSession.id_hash == id_hash)).rowcount)


def delete_user_sessions(session: Session, user_name: str) -> int:
    return session.execute(delete(WebSession).where(WebSession.user_name == user_name)).rowcount or 0


def prune_sessions(session: Session, now: datetime) -> int:
    """Delete the sessions past their absolute end (idle-ended ones go when looked up, or at their end)."""
    return session.execute(delete(WebSession).where(WebSession.expires_at <= now)).rowcount or 0


# ---- sign-in throttle -------------------------------------------------------------------------------
def throttle_reserve(session: Session, limits: Sequence[tuple[str, int]], now: datetime, window: timedelta,
                     lockout: timedelta) -> datetime | None:
    """Count one sign-in attempt as a failure against every ``(key, limit)`` before the password is checked
    (so parallel guesses cannot outrun the count), or refuse it: returns the time until which a key is blocked,
    or None when the attempt may go ahead. A key reaching its limit within ``window`` is blocked for
    ``lockout``. The rows are locked in key order (PostgreSQL: ``FOR UPDATE``; SQLite: the write transaction)."""
    wanted = dict(limits)
    keys = sorted(wanted)
    table = SignInThrottle.__table__
    for key in keys:
        session.execute(insert_for(session, table).values(key=key, failures=0, window_start=now, blocked_until=None)
                        .on_conflict_do_nothing(index_elements=["key"]))
    rows = {r.key: r for r in session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys))
                                              .order_by(SignInThrottle.key).with_for_update())}
    blocked = [r.blocked_until for r in rows.values() if r.blocked_until is not None and r.blocked_until > now]
    if blocked:
        return max(blocked)
    for key in keys:
        row = rows[key]
        if row.window_start + window <= now:
            row.failures, row.window_start = 0, now
        row.failures += 1
        row.blocked_until = now + lockout if row.failures >= wanted[key] else None
    session.execute(delete(SignInThrottle).where(SignInThrottle.window_start < now - window - lockout,
                                                 SignInThrottle.key.not_in(keys)))
    session.flush()
    return None


def throttle_release(session: Session, limits: Sequence[tuple[str, int]], reset: Sequence[str]) -> None:
    """A reserved attempt succeeded: take it back from every key (and clear the keys in ``reset``)."""
    wanted = dict(limits)
    query = select(SignInThrottle).where(SignInThrottle.key.in_(sorted(wanted))).order_by(SignInThrottle.key)
    for row in session.scalars(query.with_for_update()):
        row.failures = 0 if row.key in reset else max(0, row.failures - 1)
        if row.failures < wanted[row.key]:
            row.blocked_until = None
    session.flush()
