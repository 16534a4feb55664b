"""The derived relational catalog (SQLite embedded, PostgreSQL in production), rebuildable from S3.

Public face: :class:`Catalog`, :func:`open_catalog`, the row dataclasses and the errors. Everything else in the
package (models, query modules, migrations) is private to it.
"""

from pipeline.catalog.catalog import Catalog, open_catalog
from pipeline.catalog.errors import AlreadyExists, AuditConflict, CatalogError, NotFound
from pipeline.catalog.rows import BatchItemRow, BatchRow, DocumentRow, StatsRow, UserRow

__all__ = [
    "AlreadyExists",
    "AuditConflict",
    "BatchItemRow",
    "BatchRow",
    "Catalog",
    "CatalogError",
    "DocumentRow",
    "NotFound",
    "StatsRow",
    "UserRow",
    "open_catalog",
]
