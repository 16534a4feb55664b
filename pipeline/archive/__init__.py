"""The storage stage: the system of record in S3 (MinIO in production, SeaweedFS locally).

One bucket, versioning on and Object Lock enabled where the server supports it::

    documents/<id>/original/<file>        what arrived, byte for byte (each page file of an image folder)
    documents/<id>/archive.pdf            signed PDF/A, with key facts as S3 user metadata
    documents/<id>/text/<page>.txt        page texts (NFC, UTF-8), e.g. text/0001.txt
    documents/<id>/metadata.json          the DocumentRecord, written LAST: the commit point
    quarantine/<batch>/<name>             a bad input, byte for byte, plus <name>.reason.json
    quarantine-retries/<entry>/<time>.json  each retry of a quarantined input: outcome, reason, new document

Only plain S3 APIs through the ``minio`` SDK. Every object is written under Object Lock COMPLIANCE retention
chosen by :mod:`pipeline.archive.retention` (a ten-year floor until the retention schedule sets it per class).
"""

from pipeline.archive.errors import ArchiveError, NotFoundError
from pipeline.archive.retention import RetentionPolicy
from pipeline.archive.store import ArchiveStore

__all__ = ["ArchiveError", "ArchiveStore", "NotFoundError", "RetentionPolicy"]
