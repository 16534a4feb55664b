"""API tokens: ``arc_`` + 43 URL-safe characters (256 random bits), shown once when issued. The catalog keeps
only their SHA-256 (enough for a random 256-bit secret, and it lets a token be found by its hash), with the
user, a label, and when it was created, expires, was last used and was revoked. Issuing and revoking are
audited with the token's id, never the token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.app.auth import may_manage
from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.core.actor import Actor
from pipeline.core.record import utcnow
from pipeline.core.vocabulary import Role

if TYPE_CHECKING:
    from pipeline.catalog.credentials import TokenRow

PREFIX = "arc_"
DEFAULT_DAYS = 90
MAX_DAYS = 3650
MAX_LABEL = 100
MAX_TOKEN = 128
USE_RECORDED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # the only time it is seen: the catalog keeps its hash
    user: str
    label: str
    expires_at: datetime

    def __repr__(self) -> str:  # never in a log line or a traceback
        return f"IssuedToken(id={self.id!r}, user={self.user!r}, label={self.label!r}, expires_at={self.expires_at})"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(text: str) -> bool:
    return text.startswith(PREFIX) and len(text) <= MAX_TOKEN


def _label(label: str) -> str:
    label = " ".join("".join(c for c in label if c.isprintable()).split())
    if len(label) > MAX_LABEL:
        raise Invalid(f"the label is too long: at most {MAX_LABEL} characters")
    return label


def issue_token(ctx: Context, actor: Actor, name: str, label: str = "", expires_days: int = DEFAULT_DAYS
                ) -> IssuedToken:
    """A new API token for ``name`` (admin: anyone; a user: themselves), valid ``expires_days`` days."""
    may_manage(actor, name, "issue API tokens")
    user = ctx.catalog.get_user(name)
    if user is None:
        raise NotFound(f"no user {name!r}")
    if user.disabled:
        raise Invalid(f"user {name!r} is disabled")
    if not 1 <= expires_days <= MAX_DAYS:
        raise Invalid(f"--expires-days {expires_days}: from 1 to {MAX_DAYS}")
    label = _label(label)
    token = PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(6)
    now = utcnow()
    expires_at = now + timedelta(days=expires_days)
    ctx.audit.record(actor.name, "user.token.issue", name, "ok",
                     {"token_id": token_id, "label": label, "expires_at": expires_at.isoformat()})
    ctx.catalog.add_token(token_id, name, token_hash(token), label, actor.name, now, expires_at)
    return IssuedToken(token_id, token, name, label, expires_at)


def _describe(row: TokenRow, now: datetime) -> dict[str, object]:
    return {"id": row.id, "user": row.user_name, "label": row.label, "created_by": row.created_by,
            "created_at": row.created_at, "expires_at": row.expires_at, "last_used_at": row.last_used_at,
            "revoked_at": row.revoked_at, "state": row.state(now)}


def list_tokens(ctx: Context, actor: Actor, name: str) -> list[dict[str, object]]:
    """``name``'s tokens, oldest first, with their state (active, expired, revoked): never the token."""
    may_manage(actor, name, "list the API tokens")
    if ctx.catalog.get_user(name) is None:
        raise NotFound(f"no user {name!r}")
    now = utcnow()
    return [_describe(row, now) for row in ctx.catalog.list_tokens(name)]


def revoke_token(ctx: Context, actor: Actor, ref: str) -> dict[str, object]:
    """Revoke a token given by its id (or by the token itself, e.g. one that leaked). Admin: any token; a user:
    their own (another user's token is reported as not found)."""
    ref = ref.strip()
    shown = "(the token given)" if looks_like_token(ref) else repr(ref[:40])
    token_id = ctx.catalog.token_id_for_hash(token_hash(ref)) if looks_like_token(ref) else ref
    row = ctx.catalog.get_token(token_id) if token_id else None
    if row is None or (row.user_name != actor.name and not actor.has(Role.ADMIN)):
        raise NotFound(f"no API token {shown}: `archive user tokens NAME` lists the ids")
    if row.revoked_at is not None:
        raise Invalid(f"API token {row.id} of {row.user_name} was revoked already "
                      f"({row.revoked_at:%Y-%m-%d %H:%M} UTC)")
    now = utcnow()
    ctx.audit.record(actor.name, "user.token.revoke", row.user_name, "ok", {"token_id": row.id})
    revoked = ctx.catalog.revoke_token(row.id, now)
    return _describe(revoked or row, now)


def authenticate_token(ctx: Context, token: str) -> Actor | None:
    """The actor of an active token of an enabled user, else None (unknown, expired, revoked, disabled user).
    Roles and clearance are the user's current ones. Records the use (``last_used_at``, at most once a minute)."""
    if not isinstance(token, str) or not looks_like_token(token):
        return None
    found = ctx.catalog.find_token(token_hash(token))
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.state(now) != "active" or user.disabled:
        return None
    if row.last_used_at is None or row.last_used_at < now - USE_RECORDED_EVERY:  # most requests write nothing
        ctx.catalog.touch_token(row.id, now, USE_RECORDED_EVERY)
    return user.actor()
