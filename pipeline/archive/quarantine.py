"""Quarantine: a bad input kept byte for byte under ``quarantine/<batch>/<name>`` with its reason in
``<name>.reason.json`` (reason, details, time, checksum), so nothing that arrived is ever lost. Both are
written under the store's Object Lock retention (roles ``quarantine`` and ``quarantine/reason.json``)."""

from __future__ import annotations

import io
import json
import mimetypes
from pathlib import Path
from typing import Any

from minio import Minio

from pipeline.archive import layout
from pipeline.archive.client import iter_object
from pipeline.archive.fixity import sha256_file
from pipeline.archive.retention import QUARANTINE, QUARANTINE_REASON, RetentionPolicy
from pipeline.core.record import nfc, utcnow

ROLE = QUARANTINE


def put(client: Minio, bucket: str, batch: str, name: str, source: Path | None, reason: str,
        details: dict[str, Any] | None, retention: RetentionPolicy) -> str:
    key = layout.quarantine_key(batch, name)
    entry: dict[str, Any] = {
        "batch": nfc(batch), "name": nfc(name), "key": key, "reason": nfc(reason),
        "details": details or {}, "time": utcnow().isoformat(), "stored": source is not None,
    }
    if source is not None:
        sha, size = sha256_file(source)
        entry.update(sha256=sha, size=size)
        client.fput_object(bucket, key, str(source),
                           content_type=mimetypes.guess_type(source.name)[0] or "application/octet-stream",
                           retention=retention.retention_for(None, ROLE),
                           legal_hold=retention.legal_hold_for(None, ROLE))
    data = json.dumps(entry, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    client.put_object(bucket, key + layout.REASON_SUFFIX, io.BytesIO(data), len(data),
                      content_type="application/json",
                      retention=retention.retention_for(None, QUARANTINE_REASON),
                      legal_hold=retention.legal_hold_for(None, QUARANTINE_REASON))
    return key


def entries(client: Minio, bucket: str, batch: str | None) -> list[dict[str, Any]]:
    keys = sorted(o.object_name for o in client.list_objects(bucket, prefix=layout.quarantine_prefix(batch),
                                                               recursive=True)
                  if o.object_name and o.object_name.endswith(layout.REASON_SUFFIX))
    out = []
    for key in keys:
        entry = json.loads(b"".join(iter_object(client, bucket, key)))
        entry.setdefault("key", key[: -len(layout.REASON_SUFFIX)])
        out.append(entry)
    return out


def download(client: Minio, bucket: str, key: str, dest: Path, sha256: str | None) -> None:
    """Copy a quarantined input to ``dest``, checked against the SHA-256 recorded when it was kept: a retry must
    run on the very bytes that arrived."""
    client.fget_object(bucket, key, str(dest))
    if sha256 and sha256_file(dest)[0] != sha256:
        raise ValueError(f"quarantined copy {key} no longer matches its recorded SHA-256")


def put_attempt(client: Minio, bucket: str, entry_id: str, attempt: dict[str, Any],
                retention: RetentionPolicy) -> str:
    """Record one retry of a quarantine entry as its own locked object (the reason.json is never rewritten)."""
    stamp = f"{utcnow():%Y%m%dT%H%M%S%fZ}"
    key = layout.retry_key(entry_id, stamp)
    data = json.dumps({**attempt, "key": key}, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="application/json",
                      retention=retention.retention_for(None, QUARANTINE_REASON),
                      legal_hold=retention.legal_hold_for(None, QUARANTINE_REASON))
    return key


def attempts(client: Minio, bucket: str, entry_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Retry attempts by entry id, oldest first."""
    prefix = f"{layout.QUARANTINE_RETRIES}/" + (f"{entry_id}/" if entry_id else "")
    keys = sorted(o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True)
                  if o.object_name and o.object_name.endswith(".json"))
    out: dict[str, list[dict[str, Any]]] = {}
    for key in keys:
        out.setdefault(key.split("/")[1], []).append(json.loads(b"".join(iter_object(client, bucket, key))))
    return out
