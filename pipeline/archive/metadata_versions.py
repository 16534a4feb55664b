"""A new version of a committed document's ``metadata.json`` alone (its retention recomputed after a schedule
change or the closing of its dossier: :mod:`pipeline.app.reschedule`).

The new version is written only over the version the caller's seal names, and it is locked at least as long
as the version it follows: a document's locks only lengthen, whatever the new retain-until date says (the
older versions stay, locked, in the versioned bucket)."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from minio import Minio
from minio.retention import Retention

from pipeline.archive import layout
from pipeline.archive.client import iter_object, s3_errors
from pipeline.archive.errors import ArchiveError
from pipeline.archive.locks import current_lock


def put_metadata_version(client: Minio, bucket: str, doc_id: str, data: bytes, expected_sha256: str,
                         wanted: Retention | None, legal_hold: bool) -> datetime | None:
    """Store ``data`` as the new current ``metadata.json`` of ``doc_id``, locked by ``wanted`` or, when that
    ends earlier, by the lock of the version it follows. Nothing is written (ArchiveError) unless the current
    version's SHA-256 is ``expected_sha256`` (its seal). Returns the end of the previous version's lock."""
    key = layout.metadata_key(doc_id)
    with s3_errors(f"writing a new metadata.json of {doc_id}"):
        version = client.stat_object(bucket, key).version_id
        actual = hashlib.sha256(b"".join(iter_object(client, bucket, key, version))).hexdigest()
        if actual != expected_sha256:
            raise ArchiveError(f"metadata.json of {doc_id} (SHA-256 {actual}) does not match its seal "
                               f"{expected_sha256}: not rewritten")
        before = current_lock(client, bucket, key, version)
        previous = before.retain_until_date if before is not None else None
        lock = wanted
        if before is not None and previous is not None and (wanted is None or wanted.retain_until_date < previous):
            lock = Retention((wanted or before).mode, previous)
        client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="application/json",
                          retention=lock, legal_hold=legal_hold)
    return previous
