"""Retention hooks: where S3 Object Lock retention and legal holds will plug in (roadmap).

Today the archive writes with :class:`NoRetention`, so objects carry no lock of their own. The retention
issue supplies a policy (retention schedule per record class, COMPLIANCE by default, legal holds) and
passes it to ``ArchiveStore(s3, retention=...)``; every object write asks the policy, per document and
object role (``archive.pdf``, ``original/<file>``, ``text/0001.txt``, ``metadata.json``,
``quarantine``), for the lock to set in the same PUT. Nothing else in the store needs to change.
"""

from __future__ import annotations

from typing import Protocol

from minio.retention import Retention

from pipeline.core.record import DocumentRecord


class RetentionPolicy(Protocol):
    def retention_for(self, record: DocumentRecord | None, role: str) -> Retention | None:
        """Object Lock retention (mode + retain-until) for this object, or None for none."""
        ...

    def legal_hold_for(self, record: DocumentRecord | None, role: str) -> bool:
        """Whether the object is written under legal hold."""
        ...


class NoRetention:
    """The default: no per-object lock (a bucket default retention, if any, still applies)."""

    def retention_for(self, record: DocumentRecord | None, role: str) -> Retention | None:
        return None

    def legal_hold_for(self, record: DocumentRecord | None, role: str) -> bool:
        return False
