"""Errors a use case reports to any door (CLI, API, web) in the user's terms."""

from __future__ import annotations


class AppError(Exception):
    """A failure to show as one line."""


class NotFound(AppError, LookupError):
    """No such object *for this actor*: a document above the actor's clearance is reported exactly like a
    missing one (the API answers 404, never 403)."""


class Invalid(AppError, ValueError):
    """The request itself is wrong (bad id, bad option)."""
