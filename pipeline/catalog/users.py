"""Users: name, roles, clearance (the catalog is where accounts live; S3 holds no users)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.catalog.errors import AlreadyExists, NotFound
from pipeline.catalog.models import User
from pipeline.catalog.rows import UserRow
from pipeline.core.record import utcnow
from pipeline.core.vocabulary import Classification, Role


def encode_roles(roles: Iterable[Role | str]) -> str:
    return ",".join(sorted({Role(r).value for r in roles}))


def decode_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split(",") if r)


def to_row(user: User) -> UserRow:
    return UserRow(user.name, decode_roles(user.roles), Classification(user.clearance), user.created_at,
                   user.disabled, user.password_hash)


def add(session: Session, name: str, roles: Iterable[Role | str], clearance: Classification | str,
        created_at: datetime | None = None) -> UserRow:
    name = name.strip()
    if not name:
        raise ValueError("a user needs a name")
    user = User(name=name, roles=encode_roles(roles), clearance=Classification.parse(clearance).value,
                created_at=created_at or utcnow(), disabled=False, password_hash=None)
    if session.get(User, name) is not None:
        raise AlreadyExists(f"user {name!r} exists already")
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # created by another process since the check
        raise AlreadyExists(f"user {name!r} exists already") from exc
    return to_row(user)


def get(session: Session, name: str) -> UserRow | None:
    user = session.get(User, name)
    return None if user is None else to_row(user)


def list_all(session: Session) -> list[UserRow]:
    return [to_row(u) for u in session.scalars(select(User).order_by(User.name))]


def update(session: Session, name: str, roles: Iterable[Role | str] | None = None,
           clearance: Classification | str | None = None, disabled: bool | None = None,
           password_hash: str | None = None) -> UserRow:
    user = session.get(User, name, with_for_update=True)
    if user is None:
        raise NotFound(f"no user {name!r}")
    if roles is not None:
        user.roles = encode_roles(roles)
    if clearance is not None:
        user.clearance = Classification.parse(clearance).value
    if disabled is not None:
        user.disabled = disabled
    if password_hash is not None:
        user.password_hash = password_hash
    session.flush()
    return to_row(user)
