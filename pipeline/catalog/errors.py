"""Catalog errors."""

from __future__ import annotations


class CatalogError(Exception):
    """Base of the catalog's own errors."""


class AlreadyExists(CatalogError, ValueError):
    """A user or batch with that key exists already."""


class NotFound(CatalogError, LookupError):
    """No user or batch with that key."""


class AuditConflict(CatalogError):
    """An audit event with that sequence number exists with a different hash: the mirror disagrees with S3."""
