"""The audit trail use case: record every state change in S3 (hash-chained, append-only), mirror it into the
catalog, verify it from S3 alone, and replay it into a rebuilt catalog.

S3 is the system of record; the mirror is derived. Several worker processes record concurrently: each append
is a put-if-absent of the next segment, and the loser of a race re-reads the head and retries.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
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
    seal,
)
from pipeline.core.record import utcnow

log = logging.getLogger("archive.audit")

MAX_ATTEMPTS = 20


class AuditStore(Protocol):
    """What the trail needs of :class:`pipeline.archive.ArchiveStore`."""

    def append_audit(self, events: list[AuditEvent], retention_days: int | None = None) -> str: ...

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


def _name(actor: Any) -> str:
    return actor if isinstance(actor, str) else str(actor.name)  # an Actor is accepted too


class AuditTrail:
    """``record`` appends to S3 first, then calls ``mirror(event.model_dump())`` (``at`` a UTC datetime);
    a failing mirror is logged and never undoes or loses the S3 write."""

    def __init__(self, store: AuditStore, mirror: Callable[[dict[str, Any]], None] | None = None,
                 retention_days: int | None = None, clock: Callable[[], datetime] = utcnow,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.store = store
        self.mirror = mirror
        self.retention_days = retention_days
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
                key = self.store.append_audit(events, self.retention_days)
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
        report = check_chain(self.store.read_audit(), known_head)
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
