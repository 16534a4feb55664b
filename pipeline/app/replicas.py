"""The second copy (issue 14; Circular 02/2019/TT-BNV asks for backups on independent storage): every archival object
version and audit segment is copied to a second S3 endpoint (``[replica]``), both sides are compared, and a side
whose copy fails fixity is repaired from the other.

SeaweedFS cannot replicate buckets (MinIO bucket or site replication can, in production), so the application
copies, with the same Object Lock retention and legal hold (:mod:`pipeline.archive.replica`):

* after each archived document (:func:`pipeline.app.replica_runs.replicate_document`, from
  :mod:`pipeline.app.archiving`): its objects and the new audit segments. Never fatal: with the replica down the
  document is archived and not yet replicated;
* `archive replicas sync` and the beat (:mod:`pipeline.app.replica_runs`): whatever the replica lacks;
* `archive replicas check` and the fixity audit (:func:`check_document`): both sides' current objects re-hashed.

What is good is decided per object: a document's ``metadata.json`` by its seal in the audit trail, its artefacts by
the SHA-256 the (good) metadata.json records, an audit segment by its own event hashes. Other objects (holds,
dossiers, disposal records, quarantine) carry no recorded hash, so the primary is taken as good. A damaged current
version is never copied; it is superseded by a new version holding the other side's bytes (WORM: the damaged
version stays, locked), audited as ``replica.repair``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.app import metrics
from pipeline.app.audit import SEALS
from pipeline.app.context import Context
from pipeline.app.errors import AppError
from pipeline.archive import layout, replica
from pipeline.archive.audit_log import segment_first_seq
from pipeline.archive.client import make_client
from pipeline.archive.disposal import StillLocked
from pipeline.archive.replica import History, Side, SideError, Stored, Version
from pipeline.archive.store import ArchiveStore, metadata_bytes
from pipeline.core.audit import UnreadableEvent, canonical_bytes, parse_event_line
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification

log = logging.getLogger("archive.replicas")

REPAIR = "replica.repair"  # one object rewritten from the other side
PAUSE_S = 60.0  # after a failed replication, documents are not replicated for this long (caught up by sync)
OK, COPIED, REPAIRED, DAMAGED, MISSING = "ok", "copied", "repaired", "damaged", "missing"
ONLY_REPLICA = "only-on-replica"  # gone from the primary (maybe on purpose): kept on the replica, not restored
LEFT = "left-on-replica"  # content of a destroyed document still on the replica
PROBLEMS = (DAMAGED, MISSING, LEFT)


class NoReplica(AppError):
    """``replica.enabled`` is false: there is no second copy to compare or sync."""


class ReplicaUnavailable(AppError):
    """The replica could not be read or written: nothing about the primary's objects is known from it."""


class ReplicaLink:
    """Both sides of one instance, built once per Context (``ctx.replica``)."""

    def __init__(self, settings: Settings, store: ArchiveStore) -> None:
        s3 = settings.replica.as_s3(settings.s3.retention_days)
        if s3.endpoint == settings.s3.endpoint:  # the same server is no independent storage
            if s3.bucket == settings.s3.bucket:
                raise NoReplica("replica.endpoint and replica.bucket name the primary bucket itself: give the "
                                "second copy its own S3 endpoint")
            log.warning("the replica bucket %s is on the primary's S3 server %s: not independent storage",
                        s3.bucket, s3.endpoint)
        self.primary = Side("primary", store.client, store.bucket)
        self.replica = Side("replica", make_client(s3), s3.bucket)
        self.endpoint, self.region = s3.endpoint, s3.region
        self.retention = store.retention
        self.tmp_dir = settings.work_dir / "replica"
        self._ready = False
        self.audit_seq: int | None = None  # audit segments up to this first seq are on both sides
        self._paused_until = 0.0

    def ready(self) -> None:
        """The replica bucket exists, with versioning and Object Lock (created the first time)."""
        if not self._ready:
            replica.ensure(self.replica, self.region)
            self._ready = True

    def pause(self) -> None:
        self._paused_until = time.monotonic() + PAUSE_S

    @property
    def paused(self) -> bool:
        return time.monotonic() < self._paused_until


def link_of(ctx: Context) -> ReplicaLink:
    found = ctx.replica
    if found is None:
        raise NoReplica("no replica is configured: set replica.enabled = true and the [replica] endpoint and "
                        "bucket (and its keys in <home>/secrets), then run `archive replicas sync`")
    return found


@dataclass
class Finding:
    """One object compared on both sides."""

    key: str
    status: str  # OK, COPIED, REPAIRED, DAMAGED, MISSING, ONLY_REPLICA, LEFT
    side: str = ""  # the side that was damaged or lacking ("both": no good copy anywhere)
    problem: str = ""
    copied: int = 0  # versions copied to the replica
    destroyed: int = 0  # versions deleted on the replica (a document destroyed on the primary)
    locks: int = 0  # copies given the retention or legal hold their source version has now

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "status": self.status, "side": self.side, "problem": self.problem,
                "copied": self.copied, "destroyed": self.destroyed, "locks": self.locks}


@dataclass
class DocumentCheck:
    """The objects of one document (``doc_id`` "" for the audit trail and other objects)."""

    doc_id: str
    rank: int = 0  # its classification rank: who may see this line
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What is still wrong (damaged, missing, not destroyed), one line each."""
        return [f.problem for f in self.findings if f.status in PROBLEMS]

    @property
    def repaired(self) -> list[str]:
        return [f"{f.problem}: repaired from the {'replica' if f.side == 'primary' else 'primary'}"
                for f in self.findings if f.status == REPAIRED]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.doc_id, "ok": self.ok, "objects": len(self.findings),
                "findings": [f.to_dict() for f in self.findings if f.status != OK or f.locks]}


# ---- judging ------------------------------------------------------------------------------------------------------
def sound_segment(key: str, data: bytes) -> bool:
    """An audit segment whose every line is an event with its own hash, numbered from the key's seq and chained."""
    first = segment_first_seq(key)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if first is None or not lines:
        return False
    previous = None
    for offset, line in enumerate(lines):
        event = parse_event_line(line)
        if isinstance(event, UnreadableEvent) or event.seq != first + offset:
            return False
        if hashlib.sha256(canonical_bytes(event)).hexdigest() != event.hash:
            return False
        if previous is not None and event.prev != previous:
            return False
        previous = event.hash
    return True


def _record_of(data: bytes | None) -> DocumentRecord | None:
    try:
        return DocumentRecord.from_json(data) if data is not None else None
    except ValueError:
        return None


@dataclass
class Expected:
    """What a document's objects must hold: key → SHA-256 (metadata.json: its seal; artefacts: as recorded)."""

    hashes: dict[str, str]
    record: DocumentRecord | None
    meta_version: str | None  # the primary's metadata.json version judged (a repair needs it unchanged)
    primary_good: bool  # the primary's metadata.json matches its seal (or there is no trusted seal)


def expected(link: ReplicaLink, doc_id: str, sealed: str | None) -> Expected:
    """The good metadata.json (the side whose bytes match the seal; without a seal the primary's) and what it
    records."""
    key = layout.metadata_key(doc_id)
    found = replica.read(link.primary, key, link.tmp_dir)
    good = found[1] if found else None
    version = found[0].version_id if found else None
    primary_good = sealed is None or (found is not None and found[0].sha256 == sealed)
    if not primary_good:
        other = replica.read(link.replica, key, link.tmp_dir)
        good = other[1] if other and other[0].sha256 == sealed else None
    record = _record_of(good)
    hashes = {key: sealed} if sealed else {}
    if record is not None:
        prefix = layout.document_prefix(doc_id)
        hashes |= {a.key: a.sha256 for a in record.artefacts.values() if a.key.startswith(prefix)}
    return Expected(hashes, record, version, primary_good)


# ---- one object ---------------------------------------------------------------------------------------------------
def _judge(key: str, stored: Stored | None, data: bytes | None, want: str | None, kind: str) -> bool:
    if stored is None:
        return False
    if kind == "recorded":
        return stored.sha256 == want
    if kind == "audit":
        return data is not None and sound_segment(key, data)
    return True


def _current(side: Side, key: str, history: History, link: ReplicaLink, kind: str
             ) -> tuple[Stored | None, bytes | None]:
    if history.current is None:
        return None, None
    if kind == "audit":
        found = replica.read(side, key, link.tmp_dir)
        return (found[0], found[1]) if found else (None, None)
    return replica.hashed(side, key, link.tmp_dir), None


def _what(key: str, side: str, want: str | None, stored: Stored | None) -> str:
    if stored is None:
        return f"{key}: missing on the {side}"
    if want:
        return f"{key}: sha256 mismatch on the {side} (recorded {want}, now {stored.sha256})"
    return f"{key}: differs on the {side} (sha256 {stored.sha256})"


def _lock_pairs(ph: History, rh: History) -> list[tuple[Version, Version]]:
    """Each copy with its source version; a version of the replica's own (a damaged one, a repair) with the
    primary's current version: a document's hold covers every version of it on both sides."""
    matched = replica.pairs(ph, rh)
    used = {b.version_id for _a, b in matched}
    current = ph.current
    return matched + ([(current, b) for b in rh.versions if b.version_id not in used] if current else [])


def compare(link: ReplicaLink, key: str, ph: History, rh: History, want: str | None, kind: str, repair: bool,
            guard: Callable[[], bool] | None = None, locks: bool = False) -> Finding:
    """Both sides' current ``key`` against ``want`` (kind ``recorded``), their own hashes (``audit``) or each
    other (``plain``: the primary is good); with ``repair`` the lacking side gets the missing versions and a
    damaged side a new version with the good bytes (the primary only while ``guard()`` still holds), and with
    ``locks`` every copy the retention and legal hold of its source version (holds, lengthened locks)."""
    p, p_data = _current(link.primary, key, ph, link, kind)
    r, r_data = _current(link.replica, key, rh, link, kind)
    p_ok = _judge(key, p, p_data, want, kind)
    r_ok = _judge(key, r, r_data, want, kind) and (kind == "recorded" or p is None or not p_ok or r.sha256 == p.sha256)
    first_only = kind == "audit"
    if p_ok and r_ok:
        if not repair:
            return Finding(key, OK)
        aligned = sum(replica.align_lock(link.primary, link.replica, key, a.version_id, b.version_id)
                      for a, b in _lock_pairs(ph, rh)) if locks else 0
        copied = replica.sync_key(link.primary, link.replica, key, ph, rh, link.tmp_dir, first_only=first_only).copied
        return Finding(key, COPIED if copied else OK, copied=copied, locks=aligned)
    if p_ok:
        assert p is not None
        behind = rh.current is not None and rh.current.match in {v.match for v in ph.versions}
        if r is None or behind:  # not (yet) copied: a sync matter
            finding = Finding(key, MISSING, "replica", f"{key}: not replicated" + (" (an older version)" if r else ""))
            if repair:
                accept = (lambda sha: sha == p.sha256) if kind == "recorded" else None
                finding.copied = replica.sync_key(link.primary, link.replica, key, ph, rh, link.tmp_dir, accept,
                                                  first_only).copied
                finding.status = COPIED if finding.copied else MISSING
            return finding
        finding = Finding(key, DAMAGED, "replica", _what(key, "replica", want, r))
        if repair:
            replica.repair(link.primary, p.version_id, link.replica, key, r.version_id, link.tmp_dir, p.sha256)
            finding.status = REPAIRED
        return finding
    if r_ok:
        assert r is not None
        if p is None and kind == "plain":
            return Finding(key, ONLY_REPLICA, "primary", f"{key}: no longer on the primary (kept on the replica)")
        finding = Finding(key, DAMAGED, "primary", _what(key, "primary", want, p))
        if repair and (guard is None or guard()):
            replica.repair(link.replica, r.version_id, link.primary, key, p.version_id if p else None, link.tmp_dir,
                           r.sha256)
            finding.status = REPAIRED
        elif repair:
            finding.problem += " (the document changed during the check: checked again next time)"
        return finding
    if p is None and r is None:  # deleted (a delete marker) on the primary before it was copied: its business
        return Finding(key, OK) if kind == "plain" else Finding(key, DAMAGED, "both", f"{key}: missing on both sides")
    sides = "; ".join(_what(key, name, want, s) for name, s in (("primary", p), ("replica", r)) if s or want)
    return Finding(key, DAMAGED, "both", f"no good copy on either side: {sides}")


# ---- one document -------------------------------------------------------------------------------------------------
def _unchanged(ctx: Context, link: ReplicaLink, doc_id: str, meta_version: str | None, head: int | None) -> bool:
    """The document was not changed since it was judged: the same metadata.json version, no seal since ``head``
    (a renewal or an edit in between must never be "repaired" back)."""
    now = replica.stat(link.primary, layout.metadata_key(doc_id), None).version_id if meta_version else None
    resealed = any(e["action"] in SEALS and int(e["seq"]) > (head or 0)
                   for e in ctx.catalog.query_audit(object_id=doc_id))
    return now == meta_version and not resealed


def commit_last(key: str) -> tuple[bool, str]:
    return key.endswith("/" + layout.METADATA), key  # metadata.json last: the commit point, on both sides


def check_document(ctx: Context, actor_name: str, doc_id: str, sealed: str | None, repair: bool,
                   head: int | None = None, sides: tuple[dict[str, History], dict[str, History]] | None = None
                   ) -> DocumentCheck:
    """Compare (and with ``repair`` heal) every object of ``doc_id`` on both sides; ``sealed``: the hash of the
    seal in force (None: not trusted), ``head`` the trail's seq when it was read. Repairs are audited. Raises
    ReplicaUnavailable when the replica cannot be reached (an ArchiveError for the primary)."""
    link = link_of(ctx)
    prefix = layout.document_prefix(doc_id)
    try:
        if repair:
            link.ready()
        ph, rh = sides or (replica.histories(link.primary, prefix), replica.histories(link.replica, prefix))
        want = expected(link, doc_id, sealed)
        record = want.record
        result = DocumentCheck(doc_id, (record.metadata.classification if record else Classification.TUYET_MAT).rank)
        if record is not None and record.disposal is not None:
            result.findings += finish_destruction(link, record, want, ph, rh, repair)
        else:
            for key in sorted(set(ph) | set(rh), key=commit_last):
                kind = "recorded" if key in want.hashes else "plain"
                result.findings.append(compare(link, key, ph.get(key, History()), rh.get(key, History()),
                                               want.hashes.get(key), kind, repair,
                                               lambda: _unchanged(ctx, link, doc_id, want.meta_version, head), True))
    except SideError as exc:
        if exc.side == "replica":
            raise ReplicaUnavailable(f"replica at {link.endpoint}: {exc}") from exc
        raise
    record_findings(ctx, actor_name, doc_id, result)
    return result


def finish_destruction(link: ReplicaLink, residual: DocumentRecord, want: Expected, ph: dict[str, History],
               rh: dict[str, History], repair: bool) -> list[Finding]:
    """A document destroyed on the primary keeps only its residual record on the replica too: the residual is
    copied, then every other version there is deleted (nothing while any is still locked or held)."""
    key = layout.metadata_key(residual.id)
    sealed = want.hashes.get(key)
    if repair:
        replica.sync_key(link.primary, link.replica, key, ph.get(key, History()), rh.get(key, History()), link.tmp_dir,
                         (lambda sha: sha == sealed) if sealed else None)
        rh = replica.histories(link.replica, layout.document_prefix(residual.id))
    current = rh.get(key, History()).current
    left = sum(len(h.versions) for h in rh.values()) - (current is not None)
    findings = []
    if left:
        finding = Finding(layout.document_prefix(residual.id), LEFT, "replica",
                          f"content of destroyed document {residual.id} left on the replica ({left} version(s))")
        if repair:
            try:
                deleted, _sha = replica.destroy_copy(link.replica, residual, metadata_bytes(residual), link.retention)
                finding.status, finding.destroyed = OK, deleted
                finding.problem = f"{deleted} version(s) of destroyed document {residual.id} deleted on the replica"
                rh = replica.histories(link.replica, layout.document_prefix(residual.id))
            except StillLocked as exc:
                finding.problem += f": {exc}"
        findings.append(finding)
    findings.append(compare(link, key, ph.get(key, History()), rh.get(key, History()), sealed,
                            "recorded" if sealed else "plain", repair))
    return findings


def record_findings(ctx: Context, actor_name: str, doc_id: str, result: DocumentCheck) -> None:
    """Audit and count what a check did to storage."""
    for finding in result.findings:
        if finding.status == REPAIRED:
            log.error("replica repair: %s", finding.problem, extra={"doc_id": doc_id})
            ctx.audit.record(actor_name, REPAIR, doc_id or finding.key, "ok",
                             {"key": finding.key, "side": finding.side, "problem": finding.problem})
        elif finding.status in PROBLEMS:
            log.error("replica check: %s", finding.problem, extra={"doc_id": doc_id})
    counted = {"copied": sum(f.copied for f in result.findings),
               "repaired_primary": sum(f.status == REPAIRED and f.side == "primary" for f in result.findings),
               "repaired_replica": sum(f.status == REPAIRED and f.side == "replica" for f in result.findings),
               "damaged": sum(f.status in PROBLEMS for f in result.findings)}
    metrics.replica_counted(ctx.settings, counted)
