"""The audit trail in S3, the system of record: append-only segments under ``audit/``.

Each append writes ONE new object, a segment of consecutive events, one event JSON per line
(:func:`pipeline.core.audit.event_line`)::

    audit/000000000001.jsonl      events 1..k
    audit/<first seq:012d>.jsonl  the next segment starts at the seq after the previous one's last

The key is named by the segment's FIRST seq only, on purpose: the write is ``If-None-Match: *``, so two
writers that both read head N and both try to append N+1 collide on the same key whatever the length of
their segments, and exactly one wins; the other gets :class:`ChainConflict`, re-reads the head and retries.
(A ``<first>-<last>`` name would let a 1-event and a 3-event segment starting at the same seq both succeed:
a fork that Object Lock would then make permanent.) Zero-padded seqs make key order equal seq order, so the
head is the last line of the greatest key.

Every segment is written under the Object Lock retention the store's policy gives (COMPLIANCE for
``s3.retention_days``, :mod:`pipeline.archive.retention`), in the same PUT. A locked version can be neither
deleted nor shortened; an overwrite or a delete without a version id only adds a new current version / delete
marker, which :func:`read_all` then sees (and the chain check reports) and :func:`segment_history` exposes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from minio import Minio
from minio.error import S3Error
from minio.retention import Retention

from pipeline.archive.client import is_precondition_failed, iter_object, lock_headers, put_bytes_if_absent, s3_errors
from pipeline.archive.errors import ArchiveError, NotFoundError
from pipeline.core.audit import AuditEvent, UnreadableEvent, event_line, parse_event_line

PREFIX = "audit/"
SEGMENT = re.compile(r"^audit/(\d{12})\.jsonl$")
CONTENT_TYPE = "application/x-ndjson; charset=utf-8"


class ChainConflict(ArchiveError):
    """Another writer appended a segment starting at the same seq first: re-read the head and retry."""


class AuditLogCorrupt(ArchiveError):
    """The head segment cannot be read as events, so nothing can be appended after it (tampering?)."""


def segment_key(first_seq: int) -> str:
    return f"{PREFIX}{first_seq:012d}.jsonl"


def segment_first_seq(key: str) -> int | None:
    match = SEGMENT.match(key)
    return int(match.group(1)) if match else None


def encode_segment(events: list[AuditEvent]) -> bytes:
    """Consecutive events as JSON lines (UTF-8, each line ending in a newline)."""
    if not events:
        raise ValueError("an audit segment needs at least one event")
    for before, after in itertools.pairwise(events):
        if after.seq != before.seq + 1 or after.prev != before.hash:
            raise ValueError(f"audit events {before.seq} and {after.seq} are not chained")
    return "".join(event_line(e) + "\n" for e in events).encode("utf-8")


def append(client: Minio, bucket: str, events: list[AuditEvent], retention: Retention | None = None,
           legal_hold: bool = False) -> str:
    """Write one new segment (put-if-absent, under ``retention``). Returns its key. Raises
    :class:`ChainConflict` when a segment already starts at ``events[0].seq`` — unless it holds exactly these
    bytes (our own earlier attempt whose response was lost), which counts as success."""
    data = encode_segment(events)
    key = segment_key(events[0].seq)
    headers = lock_headers(retention, legal_hold)
    with s3_errors(f"appending audit segment {key}"):
        try:
            put_bytes_if_absent(client, bucket, key, data, CONTENT_TYPE, headers)
        except S3Error as exc:
            if not is_precondition_failed(exc):
                raise
            if _read(client, bucket, key) == data:
                return key
            raise ChainConflict(f"audit segment {key} was written by another writer") from exc
    return key


def _read(client: Minio, bucket: str, key: str) -> bytes | None:
    try:
        with s3_errors(f"reading audit segment {key}"):
            return b"".join(iter_object(client, bucket, key))
    except NotFoundError:
        return None


def segment_keys(client: Minio, bucket: str, after_seq: int | None = None) -> list[str]:
    """Current segment keys in seq order (a key whose current version is a delete marker is not listed);
    only keys of segments starting after ``after_seq`` when given."""
    start_after = segment_key(after_seq) if after_seq is not None else None
    with s3_errors("listing the audit trail"):
        names = [o.object_name for o in client.list_objects(bucket, prefix=PREFIX, start_after=start_after)
                 if o.object_name and not o.is_dir]
    return sorted(n for n in names if segment_first_seq(n) is not None)


def _events(key: str, data: bytes) -> Iterator[AuditEvent | UnreadableEvent]:
    first = segment_first_seq(key) or 0
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        yield UnreadableEvent(first, f"{key}", "empty segment")
    for n, line in enumerate(lines, start=1):
        yield parse_event_line(line, first + n - 1, f"{key} line {n}")


def head(client: Minio, bucket: str, known: AuditEvent | None = None) -> AuditEvent | None:
    """The last event of the trail (None when empty). With ``known`` (a cached head) only the keys after it
    are listed, and ``known`` is returned when none is newer. Raises :class:`AuditLogCorrupt` when the last
    line cannot be read as an event."""
    keys = segment_keys(client, bucket, known.seq if known else None)
    if not keys:
        return known
    key = keys[-1]
    data = _read(client, bucket, key)
    if data is None:  # deleted between listing and reading: list again
        return head(client, bucket, known)
    items = list(_events(key, data))
    last = items[-1]
    if isinstance(last, UnreadableEvent):
        raise AuditLogCorrupt(f"the audit trail cannot be extended: {last.where} is unreadable ({last.reason}); "
                              f"run the audit verification")
    return last


def read_all(client: Minio, bucket: str) -> Iterator[AuditEvent | UnreadableEvent]:
    """Every event of every segment, segments in key (= seq) order, current versions only. Bytes that are
    not an event come out as :class:`UnreadableEvent` (with the seq expected there), never as an exception,
    so verification reports a garbage-overwritten segment as changed."""
    for key in segment_keys(client, bucket):
        data = _read(client, bucket, key)
        if data is not None:
            yield from _events(key, data)


@dataclass(frozen=True)
class SegmentHistory:
    """A segment key with more than one version, or a delete marker: legitimate appends write each key once,
    so this is an overwrite or a deletion (the locked original versions remain readable by version id)."""

    key: str
    first_seq: int
    versions: int  # versions and delete markers
    deleted: bool  # the current version is a delete marker
    delete_markers: int = 0


def segment_history(client: Minio, bucket: str) -> list[SegmentHistory]:
    """Keys under ``audit/`` whose version history is not a single write, in seq order."""
    counts: dict[str, int] = {}
    markers: dict[str, int] = {}
    deleted: set[str] = set()
    with s3_errors("listing audit trail versions"):
        for obj in client.list_objects(bucket, prefix=PREFIX, include_version=True):
            name = obj.object_name
            if not name or segment_first_seq(name) is None:
                continue
            counts[name] = counts.get(name, 0) + 1
            if obj.is_delete_marker:
                markers[name] = markers.get(name, 0) + 1
                if str(obj.is_latest).lower() == "true":
                    deleted.add(name)
    return [SegmentHistory(k, segment_first_seq(k) or 0, n, k in deleted, markers.get(k, 0))
            for k, n in sorted(counts.items()) if n > 1 or k in deleted]
