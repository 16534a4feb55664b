"""Small SQL helpers shared by the query modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

LIKE_ESCAPE = "\\"


def insert_for(session: Session, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_do_…`` for the session's dialect (both engines support it)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported dialect {name!r}")


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with ``prefix`` taken literally (``%`` and ``_`` escaped)."""
    escaped = prefix.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    return escaped.replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_") + "%"
