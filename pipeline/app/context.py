"""The one composition root: builds the store, catalog, audit trail and search index once from the settings.

Every use case takes ``(ctx, actor, …)``; the CLI, the Celery worker and (next) the REST API each build one
Context and pass it down, so no module below constructs its own ``ArchiveStore``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from pipeline.app.audit import AuditTrail
    from pipeline.app.replicas import ReplicaLink
    from pipeline.archive import ArchiveStore
    from pipeline.catalog import Catalog
    from search import SearchIndex

log = logging.getLogger("archive.context")


@dataclass
class Context:
    settings: Settings
    _closers: list[Any] = field(default_factory=list, repr=False)

    @cached_property
    def store(self) -> ArchiveStore:
        """The archive store; every object it writes (documents, quarantine, audit segments) is locked by the
        one retention policy: COMPLIANCE until now + ``s3.retention_days``."""
        from pipeline.archive import ArchiveStore
        from pipeline.archive.retention import policy_for

        return ArchiveStore(self.settings.s3, retention=policy_for(self.settings.s3, self.settings.retention))

    @cached_property
    def replica(self) -> ReplicaLink | None:
        """The second copy (pipeline.app.replicas): the primary store and the replica bucket; None unless
        ``replica.enabled``."""
        if not self.settings.replica.enabled:
            return None
        from pipeline.app.replicas import ReplicaLink

        return ReplicaLink(self.settings, self.store)

    @cached_property
    def catalog(self) -> Catalog:
        from pipeline.catalog import Catalog

        catalog = Catalog(self.settings.catalog_url)
        self._closers.append(catalog)
        return catalog

    @cached_property
    def audit(self) -> AuditTrail:
        """The audit trail; its seals are MACed with ``audit.seal_key`` (sealing refuses without one)."""
        from pipeline.app.audit import AuditTrail

        return AuditTrail(self.store, mirror=self.catalog.add_audit_event, seal_key=self.settings.audit.seal_key)

    def open_index(self) -> SearchIndex:
        """The search index (opened per use: the writer takes a lock; close it when done). Snippets come from
        its own page store beside it, never from one S3 read per hit; both hold classified text: owner only."""
        from search import open_index

        search = self.settings.search
        if search.replica:  # a replica serves the newest snapshot the writer published (search.snapshots)
            from search.snapshots import SnapshotReader

            if not search.snapshot_dir:
                raise RuntimeError("search.replica is set but search.snapshot_dir is empty: set the shared directory")
            return SnapshotReader(search.engine, Path(search.snapshot_dir))
        self.settings.index_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return open_index(search.engine, self.settings.index_dir)

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                closer.close()
            except Exception:  # closing must not hide the real outcome
                log.warning("could not close %s", type(closer).__name__, exc_info=True)

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_context(settings: Settings | None = None) -> Context:
    return Context(settings or load_settings())
