"""The second copy in S3: object versions copied from one bucket to another on another server, compared, repaired.

Pure storage. Which versions one side lacks, copying a version with its Object Lock retention and legal hold,
hashing a side's current object, writing a good copy over a damaged one. What counts as good (a recorded SHA-256,
a seal, a sound audit segment) is decided by the application (:mod:`pipeline.app.replicas`).

Versions are matched across sides by ETag and size (the MD5 of the bytes for a single PUT, and the same
multipart ETag for a copy uploaded with the same part size), never by version id: each server numbers its own.
WORM forbids rewriting a damaged version, so a repair is a NEW version with the good bytes (readers read the
latest), marked ``x-amz-meta-archive-repair-of: <damaged version id>`` so the damaged version it supersedes is
never copied to the other side.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention
from minio.time import from_iso8601utc

from pipeline.archive import disposal
from pipeline.archive.bucket import ensure_bucket
from pipeline.archive.client import is_precondition_failed, lock_headers, put_bytes_if_absent, s3_errors
from pipeline.archive.errors import ArchiveError, NotFoundError
from pipeline.archive.fixity import CHUNK
from pipeline.archive.locks import NO_LOCK_CODES
from pipeline.archive.retention import RetentionPolicy
from pipeline.archive.store import PART_SIZE
from pipeline.archive.usermeta import META_PREFIX
from pipeline.core.record import DocumentRecord

REPAIR_OF = f"{META_PREFIX}archive-repair-of"


class SideError(ArchiveError):
    """One side could not be read or written (``side``: ``primary`` or ``replica``)."""

    def __init__(self, side: str, message: str) -> None:
        super().__init__(message)
        self.side = side


@dataclass(frozen=True)
class Side:
    name: str  # "primary" or "replica": named in every message
    client: Minio
    bucket: str


@contextlib.contextmanager
def on(side: Side, what: str) -> Iterator[None]:
    """SDK errors as :class:`SideError` naming the side (NotFoundError stays: a missing object is an answer)."""
    try:
        with s3_errors(f"{what} on the {side.name}"):
            yield
    except (NotFoundError, SideError):
        raise
    except ArchiveError as exc:
        raise SideError(side.name, str(exc)) from exc


def ensure(side: Side, region: str) -> None:
    """The side's bucket with versioning and Object Lock (created when missing)."""
    with on(side, f"preparing bucket {side.bucket}"):
        ensure_bucket(side.client, side.bucket, region)


@dataclass(frozen=True)
class Version:
    key: str
    version_id: str | None
    etag: str
    size: int

    @property
    def match(self) -> tuple[str, int]:
        return self.etag, self.size


@dataclass
class History:
    """One key's stored versions, oldest first (no delete markers); ``deleted``: a delete marker is current."""

    versions: list[Version] = field(default_factory=list)
    deleted: bool = False

    @property
    def current(self) -> Version | None:
        return None if self.deleted or not self.versions else self.versions[-1]


def histories(side: Side, prefix: str = "") -> dict[str, History]:
    """Every key under ``prefix`` with its versions (S3 lists a key's versions newest first)."""
    found: dict[str, History] = {}
    with on(side, f"listing {prefix or 'the bucket'}"):
        for obj in side.client.list_objects(side.bucket, prefix=prefix, recursive=True, include_version=True):
            if not obj.object_name:
                continue
            history = found.setdefault(obj.object_name, History())
            if obj.is_delete_marker:
                history.deleted = history.deleted or str(obj.is_latest).lower() == "true"
                continue
            history.versions.append(Version(obj.object_name, obj.version_id, (obj.etag or "").strip('"'),
                                            int(obj.size or 0)))
    for history in found.values():
        history.versions.reverse()
    return found


@dataclass(frozen=True)
class Stored:
    """One version as read: its SHA-256 and what a copy must carry (type, user metadata, lock)."""

    key: str
    version_id: str | None
    sha256: str
    size: int
    content_type: str
    metadata: dict[str, str]  # x-amz-meta-* headers as stored (already encoded)
    retention: Retention | None
    legal_hold: bool

    @property
    def repair_of(self) -> str | None:
        return self.metadata.get(REPAIR_OF)


def _lock(side: Side, key: str, version_id: str | None, low: Mapping[str, str]) -> tuple[Retention | None, bool]:
    """Retention and legal hold from the response headers (SeaweedFS and MinIO send them), else asked for."""
    mode, until = low.get("x-amz-object-lock-mode"), low.get("x-amz-object-lock-retain-until-date")
    hold = low.get("x-amz-object-lock-legal-hold")
    retention = Retention(mode, from_iso8601utc(until)) if mode and until else None
    if hold is None:  # a server that does not say: ask
        try:
            retention = side.client.get_object_retention(side.bucket, key, version_id)
        except S3Error as exc:
            if exc.code not in NO_LOCK_CODES:
                raise
        try:
            hold = "ON" if side.client.is_object_legal_hold_enabled(side.bucket, key, version_id) else "OFF"
        except S3Error as exc:
            if exc.code not in NO_LOCK_CODES:
                raise
    return retention, (hold or "").upper() == "ON"


def _stored(side: Side, key: str, version_id: str | None, sha: str, size: int, headers: Mapping[str, str]) -> Stored:
    low = {k.lower(): v for k, v in headers.items()}
    version = version_id or low.get("x-amz-version-id")
    retention, hold = _lock(side, key, version, low)
    meta = {k: v for k, v in low.items() if k.startswith(META_PREFIX)}
    return Stored(key, version, sha, size, low.get("content-type") or "application/octet-stream", meta, retention,
                  hold)


@contextlib.contextmanager
def fetched(side: Side, key: str, version_id: str | None, tmp_dir: Path) -> Iterator[tuple[Stored, IO[bytes]]]:
    """Download a version (the current one when ``version_id`` is None) to a private temporary file, hashing it
    on the way: big scans never sit in memory. Raises NotFoundError when there is no such object."""
    tmp_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=tmp_dir) as fh:
        digest, size = hashlib.sha256(), 0
        with on(side, f"reading {key}"):
            response = side.client.get_object(side.bucket, key, version_id=version_id)
            try:
                for chunk in response.stream(CHUNK):
                    digest.update(chunk)
                    fh.write(chunk)
                    size += len(chunk)
                headers = dict(response.headers.items())
            finally:
                response.close()
                response.release_conn()
            stored = _stored(side, key, version_id, digest.hexdigest(), size, headers)
        fh.seek(0)
        yield stored, fh


def read(side: Side, key: str, tmp_dir: Path, version_id: str | None = None) -> tuple[Stored, bytes] | None:
    """A small object whole (an audit segment, a JSON record) with its facts; None when there is none."""
    try:
        with fetched(side, key, version_id, tmp_dir) as (stored, fh):
            return stored, fh.read()
    except NotFoundError:
        return None


def hashed(side: Side, key: str, tmp_dir: Path, version_id: str | None = None) -> Stored | None:
    """The current (or given) version's facts and SHA-256; None when the key has no current object."""
    try:
        with fetched(side, key, version_id, tmp_dir) as (stored, _fh):
            return stored
    except NotFoundError:
        return None


def stat(side: Side, key: str, version_id: str | None) -> Stored:
    """A version's facts without its bytes (``sha256`` empty)."""
    with on(side, f"reading the facts of {key}"):
        found = side.client.stat_object(side.bucket, key, version_id=version_id)
        headers = dict(found.metadata.items()) if found.metadata else {}
        return _stored(side, key, found.version_id, "", int(found.size or 0), headers)


def _live(retention: Retention | None) -> Retention | None:
    """A retention still running (S3 refuses a retain-until date in the past)."""
    until = retention.retain_until_date if retention is not None else None
    return retention if until is not None and until > datetime.now(UTC) else None


def put(side: Side, stored: Stored, fh: IO[bytes], repair_of: str | None = None, if_absent: bool = False) -> bool:
    """Write ``stored``'s bytes (``fh``) as a new version on ``side``, with its type, user metadata, retention
    and legal hold; ``repair_of``: the damaged version it supersedes. ``if_absent`` (write-once keys: audit
    segments): only when the key has no current object; False when it had one."""
    metadata = dict(stored.metadata)
    if repair_of is not None:
        metadata[REPAIR_OF] = repair_of or "none"
    retention = _live(stored.retention)
    with on(side, f"writing {stored.key}"):
        if if_absent:
            headers = {**metadata, **lock_headers(retention, stored.legal_hold)}
            try:
                put_bytes_if_absent(side.client, side.bucket, stored.key, fh.read(), stored.content_type, headers)
            except S3Error as exc:
                if is_precondition_failed(exc):
                    return False
                raise
            return True
        side.client.put_object(side.bucket, stored.key, fh, stored.size, content_type=stored.content_type,
                               metadata=metadata or None, part_size=PART_SIZE, retention=retention,
                               legal_hold=stored.legal_hold)
    return True


@dataclass
class KeySync:
    """What syncing one key did: versions copied, and the current version refused (judged damaged)."""

    copied: int = 0
    refused: Stored | None = None


def missing(source: Side, key: str, have: History, lacks: History, first_only: bool = False) -> list[Version]:
    """The versions of ``have`` (on ``source``) that ``lacks`` needs, oldest first: every version no version of
    ``lacks`` matches, but one a later repair superseded; and the current one again when ``lacks``'s current is
    an older version of ``have`` (``have`` went back to earlier bytes). ``first_only`` (write-once keys): only
    the first version, which is the one written. Nothing of a key deleted on the source (a delete marker is
    current): its versions stay there, locked; the copy mirrors what is current."""
    if not have.versions or have.deleted:
        return []
    if first_only:
        return [] if any(v.match == have.versions[0].match for v in lacks.versions) else have.versions[:1]
    there = {v.match for v in lacks.versions}
    todo = [v for v in have.versions if v.match not in there]
    current, theirs = have.current, lacks.current
    if current is not None and current not in todo and (
            theirs is None or (theirs.match != current.match and theirs.match in {v.match for v in have.versions})):
        todo.append(current)
    superseded = set()
    for index, version in enumerate(have.versions[:-1]):
        if version in todo and stat(source, key, have.versions[index + 1].version_id).repair_of == version.version_id:
            superseded.add(version.version_id)
    return [v for v in todo if v.version_id not in superseded]


def sync_key(source: Side, target: Side, key: str, have: History, lacks: History, tmp_dir: Path,
             accept: Callable[[str], bool] | None = None, first_only: bool = False) -> KeySync:
    """Copy what :func:`missing` names, oldest first. ``accept(sha256)`` judges the source's CURRENT version
    before it is copied: refused, it is not copied (nor anything after it) and is returned as ``refused``."""
    done = KeySync()
    current = have.current
    for version in missing(source, key, have, lacks, first_only):
        with fetched(source, key, version.version_id, tmp_dir) as (stored, fh):
            if accept is not None and current is not None and version == current and not accept(stored.sha256):
                done.refused = stored
                break
            if put(target, stored, fh, if_absent=first_only):
                done.copied += 1
    return done


def repair(good: Side, good_version: str | None, bad: Side, key: str, damaged_version: str | None, tmp_dir: Path,
           expected: str | None = None) -> Stored:
    """Write the good side's version as a new version on the bad side, marked as the repair of
    ``damaged_version`` (None: the object was missing). ``expected``: the SHA-256 the good bytes must have."""
    with fetched(good, key, good_version, tmp_dir) as (stored, fh):
        if expected is not None and stored.sha256 != expected:
            raise SideError(good.name, f"{key} changed on the {good.name} while it was being repaired from it")
        put(bad, stored, fh, repair_of=damaged_version or "")
    return stored


def pairs(have: History, other: History) -> list[tuple[Version, Version]]:
    """Each version of ``have`` with its copy in ``other`` (the same bytes, in order)."""
    unused = list(other.versions)
    found = []
    for version in have.versions:
        copy = next((o for o in unused if o.match == version.match), None)
        if copy is not None:
            unused.remove(copy)
            found.append((version, copy))
    return found


def align_lock(source: Side, target: Side, key: str, source_version: str | None, target_version: str | None) -> bool:
    """Give the copy at least the source version's retention, and its legal hold (set or cleared): locks only
    lengthen. True when something changed."""
    src, dst = stat(source, key, source_version), stat(target, key, target_version)
    changed = False
    want = _live(src.retention)
    with on(target, f"aligning the lock of {key}"):
        have = dst.retention.retain_until_date if dst.retention is not None else None
        if want is not None and (have is None or have < want.retain_until_date):
            compliance = COMPLIANCE in (want.mode, dst.retention.mode if dst.retention else None)
            mode = COMPLIANCE if compliance else want.mode
            target.client.set_object_retention(target.bucket, key, Retention(mode, want.retain_until_date),
                                               target_version)
            changed = True
        if src.legal_hold != dst.legal_hold:
            if src.legal_hold:
                target.client.enable_object_legal_hold(target.bucket, key, target_version)
            else:
                target.client.disable_object_legal_hold(target.bucket, key, target_version)
            changed = True
    return changed


def destroy_copy(side: Side, residual: DocumentRecord, residual_json: bytes, retention: RetentionPolicy
                 ) -> tuple[int, str]:
    """A document destroyed on the other side: keep its residual record only (:func:`disposal.destroy_document`;
    raises disposal.StillLocked, deleting nothing, while a version here is still locked or held)."""
    with on(side, f"destroying the copy of {residual.id}"):
        return disposal.destroy_document(side.client, side.bucket, residual, residual_json, retention)


def describe(stored: Stored | None) -> dict[str, Any]:
    return {} if stored is None else {"version": stored.version_id, "sha256": stored.sha256, "size": stored.size}
