"""Errors a use case reports to any door (CLI, API, web) in the user's terms."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

MAX_CAUSES = 16  # a cycle or a runaway chain is not followed further


class AppError(Exception):
    """A failure to show as one line."""


class NotFound(AppError, LookupError):
    """No such object *for this actor*: a document above the actor's clearance is reported exactly like a
    missing one (the API answers 404, never 403)."""


class Invalid(AppError, ValueError):
    """The request itself is wrong (bad id, bad option)."""


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it was raised from or while handling (``__cause__``, ``__context__``), nearest first,
    each once, at most :data:`MAX_CAUSES`: an outage or a full disk is often wrapped by the stage that met it."""
    seen: set[int] = set()
    todo: deque[BaseException | None] = deque([exc])
    while todo and len(seen) < MAX_CAUSES:
        current = todo.popleft()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += (current.__cause__, current.__context__)
