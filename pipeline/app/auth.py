"""Sign-in: passwords (argon2id), the password rules and the sign-in throttle. API tokens are in
:mod:`pipeline.app.auth_tokens`, browser sessions in :mod:`pipeline.app.auth_sessions`.

The doors call :func:`sign_in` (password, rate-limited), :func:`pipeline.app.auth_tokens.authenticate_token`
(``Authorization: Bearer arc_…``) or :func:`pipeline.app.auth_sessions.lookup_session` (cookie) and pass the
:class:`~pipeline.core.actor.Actor` they get to the use cases; nothing else authenticates.

Credentials live only in the catalog, hashed; the audit trail records that a password was set, a token issued
or revoked, a user signed in, but never a password, a hash or a token. ``archive reindex`` keeps them (it does
not touch the users' rows); a catalog rebuilt from S3 alone has the users (replayed from the trail) but no
passwords, tokens or sessions: they must be set and issued again (fail closed).
"""

from __future__ import annotations

import hashlib
import logging
import math
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.app.context import Context
from pipeline.app.errors import AppError, Invalid, NotFound
from pipeline.core.actor import AccessDenied, Actor
from pipeline.core.record import utcnow
from pipeline.core.vocabulary import Role

log = logging.getLogger("archive.auth")

MIN_PASSWORD = 12  # characters (after NFC normalisation)
MAX_PASSWORD = 1024
MAX_NAME = 128
FAILED = "wrong user name or password"


class AuthFailed(AppError):
    """Wrong user name or password; also an unknown, disabled or password-less user (one message for all, so a
    caller cannot tell which names exist). The API answers 401."""


class RateLimited(AppError):
    """Too many failed sign-ins for this user name or client; ``retry_after`` in seconds (API: 429 with
    ``Retry-After``)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(f"too many failed sign-ins: try again in {minutes} minute{'s' if minutes > 1 else ''}")


class Passwords:
    """argon2id hashing (argon2-cffi's default parameters: RFC 9106's low-memory profile). A user without a
    password, or an unknown one, is checked against a dummy hash so that the answer takes as long."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; None (no such user, no password) verifies a dummy hash."""
        if stored is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash("dummy password for unknown users")
            self._check(self._dummy, password)
            return False
        return self._check(stored, password)

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return False


PASSWORDS = Passwords()


@dataclass(frozen=True)
class Limits:
    """Failed sign-ins allowed per user name and per client (e.g. an address: an office behind one address
    shares it, hence the higher limit) within ``window``; a key reaching its limit is refused for ``lockout``."""

    per_name: int = 5
    per_client: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


LIMITS = Limits()


def normalise(password: str) -> str:
    """NFC: a Vietnamese password typed as composed or decomposed characters is the same password."""
    return unicodedata.normalize("NFC", password)


def check_password(name: str, password: str) -> str:
    """The password to store (NFC), or :class:`Invalid` naming the rule it breaks."""
    password = normalise(password)
    if not password.strip():
        raise Invalid("the password is empty")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"the password is too long: at most {MAX_PASSWORD} characters")
    if password.strip().casefold() == name.strip().casefold():
        raise Invalid("the password must not be the user name")
    return password


def may_manage(actor: Actor, name: str, what: str) -> None:
    """Admins manage every user's credentials; any other user only their own."""
    if actor.name != name and not actor.has(Role.ADMIN):
        raise AccessDenied(f"user {actor.name!r} may not {what} of another user (needs the admin role)")


def set_password(ctx: Context, actor: Actor, name: str, password: str) -> None:
    """Set ``name``'s password (admin: anyone's; a user: their own) and end the user's browser sessions.

    The door must have authenticated ``actor``. For a user changing their own password through the API or a
    page, call :func:`change_password` instead, which also asks for the current one."""
    may_manage(actor, name, "set the password")
    if ctx.catalog.get_user(name) is None:
        raise NotFound(f"no user {name!r}")
    hashed = PASSWORDS.hash(check_password(name, password))
    ctx.audit.record(actor.name, "user.passwd", name, "ok", {"self": actor.name == name})
    ended = ctx.catalog.set_password_hash(name, hashed)
    # No extra={"actor": …}: inside a request the API's log-record factory has set it already (a KeyError).
    log.info("password of %s set by %s (%d session(s) ended)", name, actor.name, ended)


def change_password(ctx: Context, actor: Actor, current: str, new: str, client: str = "") -> None:
    """A signed-in user changes their own password: ``current`` is checked like a sign-in (rate-limited,
    :class:`AuthFailed`). All of the user's sessions end: give the browser a new one."""
    check_password(actor.name, new)
    _attempt(ctx, actor.name, current, client, LIMITS)
    set_password(ctx, actor, actor.name, new)


def verify_password(ctx: Context, name: str, password: str) -> Actor | None:
    """The actor when ``password`` is ``name``'s and the user is enabled, else None (in about the same time
    for unknown users, who are checked against a dummy hash). Not rate-limited: doors call :func:`sign_in`.
    A hash made with older argon2 parameters is replaced by one made with the current ones."""
    password = normalise(password)[:MAX_PASSWORD + 1]
    row = ctx.catalog.get_user(name) if name and len(name) <= MAX_NAME else None
    stored = row.password_hash if row is not None else None
    if not PASSWORDS.verify(stored, password) or row is None or stored is None or len(password) > MAX_PASSWORD:
        return None
    if row.disabled:
        return None
    if PASSWORDS.needs_rehash(stored):
        _rehash(ctx, name, stored, password)
    return row.actor()


def _rehash(ctx: Context, name: str, stored: str, password: str) -> None:
    try:
        ctx.audit.record(name, "user.rehash", name, "ok", {"reason": "argon2 parameters changed"})
    except AppError as exc:  # the sign-in stands; the next one tries again
        log.warning("password hash of %s not upgraded: %s", name, exc)
        return
    if ctx.catalog.replace_password_hash(name, stored, PASSWORDS.hash(password)):
        log.info("password hash of %s upgraded to the current argon2 parameters", name)


def throttle_key(kind: str, value: str) -> str:
    """The stored key of a user name or client: a hash, so a password typed into the name field is not kept."""
    text = f"{kind}:{unicodedata.normalize('NFC', value).strip().lower()[:256]}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _attempt(ctx: Context, name: str, password: str, client: str, limits: Limits) -> Actor:
    now = utcnow()
    keys = [(throttle_key("name", name), limits.per_name)]
    if client:
        keys.append((throttle_key("client", client), limits.per_client))
    blocked_until = ctx.catalog.throttle_reserve(keys, now, limits.window, limits.lockout)
    if blocked_until is not None:
        log.warning("sign-in refused: too many failures (client %s)", client or "-")
        raise RateLimited(max(1, math.ceil((blocked_until - now).total_seconds())))
    actor = verify_password(ctx, name, password)
    if actor is None:  # the attempt stays counted as a failure
        log.info("sign-in failed (client %s)", client or "-")
        raise AuthFailed(FAILED)
    ctx.catalog.throttle_release(keys, reset=[keys[0][0]])
    return actor


def sign_in(ctx: Context, name: str, password: str, client: str, *, limits: Limits = LIMITS) -> Actor:
    """Check a user name and password for a door (``client``: e.g. the remote address; empty: no client key).

    Every attempt counts as a failure for the name and the client until it succeeds, so parallel guesses cannot
    outrun the limit; a refused attempt is not checked at all. Raises :class:`RateLimited` or
    :class:`AuthFailed` (one line each). A successful sign-in is audited (``user.signin``, with the client)."""
    actor = _attempt(ctx, name, password, client, limits)
    ctx.audit.record(actor.name, "user.signin", actor.name, "ok", {"client": client[:200]} if client else {})
    return actor
