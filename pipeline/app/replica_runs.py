"""Keeping the second copy whole (:mod:`pipeline.app.replicas`): the copy right after archiving, the catch-up
(`archive replicas sync`, the beat) and the full comparison (`archive replicas check`).

Sync only copies what the replica lacks, from the two buckets' version listings (cheap: no object is read unless
it is copied), and never a current version that fails its recorded SHA-256 or seal (named instead: `archive
replicas check` repairs it from the replica). It also finishes on the replica the destruction of documents
destroyed on the primary. Check re-hashes every current object on both sides. Both are for the records office
(and administrators); a run that changed storage is audited (``replica.sync``, ``replica.check``, and one
``replica.repair`` per repaired object); what a check answers names only documents the actor may see.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipeline.app import documents, metrics
from pipeline.app.audit import SealKeyMissing
from pipeline.app.context import Context
from pipeline.app.replicas import (
    COPIED,
    OK,
    REPAIRED,
    DocumentCheck,
    NoReplica,
    ReplicaLink,
    ReplicaUnavailable,
    check_document,
    commit_last,
    compare,
    expected,
    finish_destruction,
    link_of,
    record_findings,
)
from pipeline.archive import layout, replica
from pipeline.archive.audit_log import PREFIX as AUDIT_PREFIX
from pipeline.archive.audit_log import segment_first_seq, segment_keys
from pipeline.archive.replica import History, SideError
from pipeline.core.actor import SYSTEM, Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.vocabulary import Role

log = logging.getLogger("archive.replicas")

SYNC, CHECK = "replica.sync", "replica.check"
MAX_AUDITED = 20


def is_audit(key: str) -> bool:
    return key.startswith(AUDIT_PREFIX)


def trusted_seals(ctx: Context) -> tuple[dict[str, str], int | None]:
    """doc id → the metadata.json hash its seal in force names, and the trail's head seq; no seals when they
    cannot be trusted (no ``audit.seal_key``, a broken trail): metadata.json is then compared side to side."""
    last = ctx.catalog.last_audit_event()
    head = int(last["seq"]) if last else None
    try:
        report, states = ctx.audit.latest_seals(head)
    except SealKeyMissing:
        return {}, head
    if not report.ok:
        log.warning("replicas: the audit trail is broken (%s): metadata.json compared side to side", report.message)
        return {}, head
    return {doc: s.sealed for doc, s in states.items() if s.sealed and not s.refused}, head


# ---- right after archiving ----------------------------------------------------------------------------------------
def replicate_document(ctx: Context, record: DocumentRecord, sealed: str | None) -> bool:
    """Copy a just-archived document and the new audit segments to the replica. Never raises: a replica outage
    leaves the document archived and not yet replicated (logged, counted; `archive replicas sync` and the beat
    catch up). True when the document is on both sides (or there is no replica)."""
    if not ctx.settings.replica.enabled:
        return True
    try:
        link = ctx.replica
    except NoReplica as exc:  # a configuration error: said, never a failed document
        log.error("document %s not replicated: %s", record.id, exc, extra={"doc_id": record.id})
        return False
    assert link is not None
    if link.paused:
        log.info("document %s not yet replicated (the replica was unreachable moments ago)", record.id)
        return False
    try:
        link.ready()
        prefix = layout.document_prefix(record.id)
        ph, rh = replica.histories(link.primary, prefix), replica.histories(link.replica, prefix)
        hashes = {a.key: a.sha256 for a in record.artefacts.values()}
        hashes |= {layout.metadata_key(record.id): sealed} if sealed else {}
        copied = 0
        for key in sorted(ph, key=commit_last):
            want = hashes.get(key)
            done = replica.sync_key(link.primary, link.replica, key, ph[key], rh.get(key, History()), link.tmp_dir,
                                    (lambda sha, want=want: sha == want) if want else None)
            copied += done.copied
            if done.refused is not None:
                log.error("document %s: %s not replicated: its SHA-256 %s differs from the recorded %s", record.id,
                          key, done.refused.sha256, want, extra={"doc_id": record.id})
        copied += sync_audit_tail(link)
        metrics.replica_counted(ctx.settings, {"copied": copied})
        return True
    except Exception as exc:  # never fails an archived document
        link.pause()
        log.warning("document %s archived but not yet replicated: %s", record.id, exc, extra={"doc_id": record.id})
        metrics.replica_counted(ctx.settings, {"failed": 1})
        return False


def sync_audit_tail(link: ReplicaLink) -> int:
    """Copy the audit segments the replica lacks after the last one known on both sides (write-once keys)."""
    after = link.audit_seq
    with replica.on(link.primary, "listing the audit trail"):
        keys = segment_keys(link.primary.client, link.primary.bucket, after)
    with replica.on(link.replica, "listing the audit trail"):
        there = set(segment_keys(link.replica.client, link.replica.bucket, after))
    copied = 0
    for key in keys:
        if key not in there:
            with replica.fetched(link.primary, key, None, link.tmp_dir) as (stored, fh):
                copied += replica.put(link.replica, stored, fh, if_absent=True)
        link.audit_seq = segment_first_seq(key)
    return copied


# ---- the whole bucket ---------------------------------------------------------------------------------------------
def _groups(ph: dict[str, History], rh: dict[str, History]) -> Iterator[tuple[str, list[str]]]:
    """(document id, its keys) for every document on either side, then ("", the other keys)."""
    docs: dict[str, list[str]] = {}
    other: list[str] = []
    for key in sorted(set(ph) | set(rh)):
        parts = key.split("/")
        if parts[0] == layout.DOCUMENTS and len(parts) > 2:
            docs.setdefault(parts[1], []).append(key)
        else:
            other.append(key)
    yield from docs.items()
    yield "", other


def _pick(histories: dict[str, History], keys: list[str]) -> dict[str, History]:
    return {k: histories[k] for k in keys if k in histories}


@dataclass
class SyncReport:
    keys: int = 0
    copied: int = 0  # versions copied to the replica
    destroyed: int = 0  # versions deleted on the replica (documents destroyed on the primary)
    problems: list[str] = field(default_factory=list)  # not copied: damaged on the primary, still locked ...

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"keys": self.keys, "copied": self.copied, "destroyed": self.destroyed, "problems": self.problems}


def _sync_document(ctx: Context, link: ReplicaLink, doc_id: str, ph: dict[str, History], rh: dict[str, History],
                   seals: dict[str, str], report: SyncReport) -> None:
    meta = layout.metadata_key(doc_id)
    needs = [k for k in sorted(ph, key=commit_last)
             if replica.missing(link.primary, k, ph[k], rh.get(k, History()))]
    destroyed = set(ph) == {meta} and bool(set(rh) - {meta})  # maybe destroyed on the primary only
    if not needs and not destroyed:
        return
    want = expected(link, doc_id, seals.get(doc_id))
    if not want.primary_good:
        report.problems.append(f"{meta}: differs from its seal on the primary: document not replicated (run "
                               f"`archive replicas check {doc_id[:12]}` to repair it)")
        return
    if want.record is not None and want.record.disposal is not None:
        for finding in finish_destruction(link, want.record, want, ph, rh, repair=True):
            report.copied += finding.copied
            report.destroyed += finding.destroyed
            if finding.status not in (OK, COPIED):
                report.problems.append(finding.problem)
        return
    for key in needs:
        sha = want.hashes.get(key)
        done = replica.sync_key(link.primary, link.replica, key, ph[key], rh.get(key, History()), link.tmp_dir,
                                (lambda found, sha=sha: found == sha) if sha else None)
        report.copied += done.copied
        if done.refused is not None:
            report.problems.append(f"{key}: sha256 mismatch on the primary (recorded {sha}, now "
                                   f"{done.refused.sha256}): not replicated; `archive replicas check` repairs it")


def sync(ctx: Context, actor: Actor) -> SyncReport:
    """Copy to the replica every object version it lacks (whole bucket), finish there the destruction of documents
    destroyed on the primary; audited when anything changed or was refused."""
    actor.require(Role.RECORDS_OFFICER, "copy the archive to its replica")
    link = link_of(ctx)
    report = SyncReport()
    try:
        link.ready()
        ph, rh = replica.histories(link.primary), replica.histories(link.replica)
        report.keys = len(ph)
        seals: dict[str, str] | None = None
        for doc_id, keys in _groups(ph, rh):
            if doc_id:
                seals = seals if seals is not None else trusted_seals(ctx)[0]
                _sync_document(ctx, link, doc_id, _pick(ph, keys), _pick(rh, keys), seals, report)
                continue
            for key in (k for k in keys if k in ph):
                report.copied += replica.sync_key(link.primary, link.replica, key, ph[key], rh.get(key, History()),
                                                  link.tmp_dir, first_only=is_audit(key)).copied
    except SideError as exc:
        if exc.side == "replica":
            raise ReplicaUnavailable(f"replica at {link.endpoint}: {exc}") from exc
        raise
    finally:
        metrics.replica_counted(ctx.settings, {"copied": report.copied, "damaged": len(report.problems)})
    if report.copied or report.destroyed or report.problems:
        ctx.audit.record(actor.name, SYNC, "replica", "failed" if report.problems else "ok",
                         {"copied": report.copied, "destroyed": report.destroyed,
                          "problems": report.problems[:MAX_AUDITED], "count": len(report.problems)})
    log.info("replica sync: %d version(s) copied, %d destroyed, %d problem(s)", report.copied, report.destroyed,
             len(report.problems))
    return report


def scheduled_sync(ctx: Context) -> dict[str, Any]:
    """The beat's catch-up, as the system (nothing to do without a replica)."""
    if ctx.replica is None:
        return {"skipped": "no replica configured"}
    return sync(ctx, SYSTEM).to_dict()


@dataclass
class CheckReport:
    groups: list[DocumentCheck] = field(default_factory=list)
    repair: bool = True

    def _count(self, *statuses: str) -> int:
        return sum(f.status in statuses for g in self.groups for f in g.findings)

    @property
    def problems(self) -> list[str]:
        return [p for g in self.groups for p in g.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    def for_actor(self, actor: Actor) -> CheckReport:
        return CheckReport([g for g in self.groups if g.rank <= actor.clearance.rank], self.repair)

    def to_dict(self) -> dict[str, Any]:
        return {"objects": sum(len(g.findings) for g in self.groups),
                "copied": sum(f.copied for g in self.groups for f in g.findings),
                "repaired": self._count(REPAIRED), "problems": len(self.problems), "repair": self.repair,
                "locks": sum(f.locks for g in self.groups for f in g.findings),
                "documents": [g.to_dict() for g in self.groups if any(f.status != OK or f.locks for f in g.findings)]}


def check(ctx: Context, actor: Actor, idents: list[str] | None = None, repair: bool = True) -> CheckReport:
    """Compare every current object of the documents ``idents`` (ids or unique prefixes the actor may see), or
    of the whole bucket (documents, the audit trail, holds, dossiers, disposal records, quarantine), on both
    sides; with ``repair`` copy what the replica lacks and rewrite a damaged side from the good one."""
    actor.require(Role.RECORDS_OFFICER, "compare the archive with its replica")
    link = link_of(ctx)
    doc_ids = list(dict.fromkeys(documents.resolve_id(ctx, actor, i) for i in idents)) if idents else None
    seals, head = trusted_seals(ctx)
    report = CheckReport(repair=repair)
    try:
        link.ready()
        if doc_ids is not None:
            report.groups = [check_document(ctx, actor.name, d, seals.get(d), repair, head) for d in doc_ids]
        else:
            ph, rh = replica.histories(link.primary), replica.histories(link.replica)
            for doc_id, keys in _groups(ph, rh):
                if doc_id:
                    report.groups.append(check_document(ctx, actor.name, doc_id, seals.get(doc_id), repair, head,
                                                        (_pick(ph, keys), _pick(rh, keys))))
                    continue
                objects = DocumentCheck("")
                for key in keys:
                    objects.findings.append(compare(link, key, ph.get(key, History()), rh.get(key, History()), None,
                                                    "audit" if is_audit(key) else "plain", repair))
                report.groups.append(objects)
                record_findings(ctx, actor.name, "", objects)
    except SideError as exc:
        if exc.side == "replica":
            raise ReplicaUnavailable(f"replica at {link.endpoint}: {exc}") from exc
        raise
    problems = report.problems
    ctx.audit.record(actor.name, CHECK, "replica", "failed" if problems else "ok",
                     {"objects": sum(len(g.findings) for g in report.groups), "repaired": report._count(REPAIRED),
                      "problems": problems[:MAX_AUDITED], "count": len(problems), "repair": repair,
                      "requested": bool(idents)})
    return report.for_actor(actor)
