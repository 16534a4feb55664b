"""The audit trail use case: record every state change in S3 (hash-chained, append-only), mirror it into the
catalog, verify it from S3 alone, and replay it into a rebuilt catalog.

S3 is the system of record; the mirror is derived. Several worker processes record concurrently: each append
is a put-if-absent of the next segment, and the loser of a race re-reads the head and retries. Segments are
written under the store's Object Lock retention (COMPLIANCE, ``s3.retention_days``).

The trail also SEALS documents: an ``ingest`` (outcome ``archived``) or ``renew`` (outcome ``ok``) event whose
detail carries ``metadata_sha256``, the SHA-256 of the metadata.json just committed. :meth:`AuditTrail.latest_seal`
returns the newest seal of a document from a verified chain, which `archive verify ID` compares with the stored
metadata.json.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pipeline.app.errors import AppError
from pipeline.archive.audit_log import ChainConflict, SegmentHistory
from pipeline.archive.errors import ArchiveError
from pipeline.core.audit import (
    CHANGED,
    GENESIS,
    REMOVED,
    AuditEvent,
    ChainReport,
    UnreadableEvent,
    check_chain,
    describe,
    seal,
)
from pipeline.core.record import utcnow

log = logging.getLogger("archive.audit")

MAX_ATTEMPTS = 20
SEALS = {"ingest": "archived", "renew": "ok"}  # action -> the outcome of a seal event
SEAL_KEY = "metadata_sha256"


class AuditStore(Protocol):
    """What the trail needs of :class:`pipeline.archive.ArchiveStore`."""

    def append_audit(self, events: list[AuditEvent]) -> str: ...

    def audit_head(self, known: AuditEvent | None = None) -> AuditEvent | None: ...

    def read_audit(self) -> Iterable[AuditEvent | UnreadableEvent]: ...

    def audit_history(self) -> list[SegmentHistory]: ...


class AuditUnavailable(AppError):
    """The event could not be written to S3 (after retrying conflicts): the state change is not audited."""


@dataclass(frozen=True)
class AuditEntry:
    """One event to record with :meth:`AuditTrail.record_many`."""

    actor: str
    action: str
    object: str
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


def is_seal(event: AuditEvent) -> bool:
    """An event that seals a document's metadata.json hash (see the module docstring)."""
    return SEALS.get(event.action) == event.outcome and isinstance(event.detail.get(SEAL_KEY), str)


def _name(actor: Any) -> str:
    return actor if isinstance(actor, str) else str(actor.name)  # an Actor is accepted too


class AuditTrail:
    """``record`` appends to S3 first, then calls ``mirror(event.model_dump())`` (``at`` a UTC datetime);
    a failing mirror is logged and never undoes or loses the S3 write."""

    def __init__(self, store: AuditStore, mirror: Callable[[dict[str, Any]], None] | None = None,
                 clock: Callable[[], datetime] = utcnow, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.store = store
        self.mirror = mirror
        self.clock = clock
        self.max_attempts = max_attempts
        self._head: AuditEvent | None = None
        self._head_read = False

    def head(self, refresh: bool = False) -> AuditEvent | None:
        """The last event (cached; ``refresh`` lists only the segments after the cached one)."""
        if refresh or not self._head_read:
            self._head = self.store.audit_head(self._head)
            self._head_read = True
        return self._head

    def record(self, actor_name: Any, action: str, object: str, outcome: str = "ok",
               detail: dict[str, Any] | None = None) -> AuditEvent:
        """Seal and store the next event; returns it."""
        return self.record_many([AuditEntry(_name(actor_name), action, object, outcome, dict(detail or {}))])[0]

    def record_many(self, entries: Iterable[AuditEntry]) -> list[AuditEvent]:
        """Seal several events and store them as ONE segment (all or none)."""
        entries = list(entries)
        if not entries:
            return []
        for attempt in range(1, self.max_attempts + 1):
            try:
                events = self._seal(entries, self.head(refresh=attempt > 1))
                key = self.store.append_audit(events)
            except ChainConflict:
                log.debug("audit append lost a race (attempt %d), re-reading the head", attempt)
                time.sleep(random.uniform(0, 0.005 * attempt))  # de-synchronise competing writers
                continue
            except ArchiveError as exc:
                log.error("audit event %s %s could not be written to S3: %s", entries[0].action,
                          entries[0].object, exc)
                raise AuditUnavailable(f"audit trail not written: {exc}") from exc
            self._head = events[-1]
            log.debug("audit events %d-%d written to %s", events[0].seq, events[-1].seq, key)
            self._mirror(events)
            return events
        log.error("audit append gave up after %d conflicting attempts", self.max_attempts)
        raise AuditUnavailable(f"audit trail not written: {self.max_attempts} attempts lost to concurrent writers")

    def _seal(self, entries: list[AuditEntry], head: AuditEvent | None) -> list[AuditEvent]:
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
        at = self.clock()
        events = []
        for entry in entries:
            seq += 1
            event = seal(seq, at, entry.actor, entry.action, entry.object, entry.outcome, entry.detail, prev)
            events.append(event)
            prev = event.hash
        return events

    def _mirror(self, events: list[AuditEvent]) -> None:
        if self.mirror is None:
            return
        for event in events:
            try:
                self.mirror(event.model_dump())
            except Exception:  # the S3 write stands; rebuild_mirror repairs the catalog
                log.exception("audit event %d is in S3 but could not be mirrored to the catalog", event.seq)

    def verify(self, known_head: int | None = None) -> ChainReport:
        """Recompute the chain from S3 alone. Then, if the chain itself is intact, check that no segment was
        ever overwritten or deleted (each key must hold one version): this catches the removal or
        rewriting of the LAST segment, which leaves no gap. ``known_head`` (e.g. the catalog's last seq)
        also catches a trail that ends too early."""
        return self._verify(self.store.read_audit(), known_head)

    def latest_seal(self, object_id: str, known_head: int | None = None) -> tuple[ChainReport, AuditEvent | None]:
        """Verify the whole trail (as :meth:`verify`) and return the newest seal event of ``object_id`` (None if
        it has none). A seal is only to be trusted when the report is ok."""
        report, seals = self.latest_seals(known_head, object_id)
        return report, seals.get(object_id)

    def latest_seals(self, known_head: int | None = None, object_id: str | None = None
                     ) -> tuple[ChainReport, dict[str, AuditEvent]]:
        """Verify the whole trail (as :meth:`verify`) and return the newest seal event of every document (of
        ``object_id`` only, when given), in ONE pass over S3. Trust them only when the report is ok."""
        seals: dict[str, AuditEvent] = {}

        def watch(items: Iterable[AuditEvent | UnreadableEvent]) -> Iterator[AuditEvent | UnreadableEvent]:
            for item in items:
                if (isinstance(item, AuditEvent) and is_seal(item) and object_id in (None, item.object)
                        and (item.object not in seals or seals[item.object].seq < item.seq)):
                    seals[item.object] = item
                yield item

        report = self._verify(watch(self.store.read_audit()), known_head)
        return report, seals

    def _verify(self, events: Iterable[AuditEvent | UnreadableEvent], known_head: int | None) -> ChainReport:
        report = check_chain(events, known_head)
        if report.ok:
            for item in self.store.audit_history():
                kind = REMOVED if item.deleted else CHANGED
                if item.deleted:
                    what = "deleted"
                elif item.delete_markers:
                    what = f"deleted and written again ({item.versions} versions)"
                else:
                    what = f"overwritten ({item.versions} versions)"
                report = ChainReport(False, report.checked, report.head, kind, item.first_seq,
                                     f"audit segment {item.key} (from event {item.first_seq}) was {what} after "
                                     f"it was written")
                break
        if report.ok:
            log.info("audit trail intact: %d events", report.checked)
        else:
            log.warning("audit trail broken: %s", report.message)
        return report

    def rebuild_mirror(self, add: Callable[[dict[str, Any]], None]) -> int:
        """Replay every readable event from S3, in order, into ``add``; returns how many. Unreadable entries
        are skipped with a warning (``verify`` reports them)."""
        count = 0
        for item in self.store.read_audit():
            if isinstance(item, UnreadableEvent):
                log.warning("skipping unreadable audit entry %s: %s", item.where, item.reason)
                continue
            add(item.model_dump())
            count += 1
        log.info("replayed %d audit events into the mirror", count)
        return count


@dataclass(frozen=True)
class SealCheck:
    """A document's stored metadata.json against its newest seal. ``status``: ``match``; ``MISMATCH`` (the
    stored bytes, or their absence, differ from the sealed hash); ``missing`` (no seal: archived before
    sealing existed, or the ingest event was never written); ``UNVERIFIED`` (the trail itself is broken, so
    no seal in it can be trusted). ``problem`` is the one line to report when not ``match``."""

    status: str
    problem: str | None = None
    event: AuditEvent | None = None
    actual: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seal": self.status, "metadata_sha256": self.actual}
        if self.event is not None:
            data["sealed_sha256"] = self.event.detail[SEAL_KEY]
            data["seal_event"] = {"seq": self.event.seq, "action": self.event.action, "actor": self.event.actor,
                                  "at": self.event.at.isoformat()}
        return data


def check_seal(trail: AuditTrail, object_id: str, metadata: bytes | None,
               known_head: int | None = None) -> SealCheck:
    """Hash ``metadata`` (the stored metadata.json bytes, None if absent) and compare it with the newest seal
    of ``object_id`` in the trail, whose chain is verified from S3 in the same pass."""
    report, event = trail.latest_seal(object_id, known_head)
    actual = hashlib.sha256(metadata).hexdigest() if metadata is not None else None
    if not report.ok:
        return SealCheck("UNVERIFIED", f"the audit trail is broken, so no seal in it can be trusted: {report.message}",
                         event, actual)
    if event is None:
        return SealCheck("missing", f"no sealed metadata.json hash for {object_id} in the audit trail (archived "
                                    f"before sealing, or its ingest event was never written)", None, actual)
    sealed = event.detail[SEAL_KEY]
    if actual is None:
        return SealCheck("MISMATCH", f"metadata.json is missing from storage; {describe(event)} sealed {sealed}",
                         event, actual)
    if actual != sealed:
        return SealCheck("MISMATCH", f"stored metadata.json SHA-256 {actual} differs from the hash sealed in the "
                                     f"audit trail by {describe(event)}: {sealed}", event, actual)
    return SealCheck("match", None, event, actual)
