"""The audit trail use case: record every state change in S3 (hash-chained, append-only), mirror it into the
catalog, verify it from S3 alone, and replay it into a rebuilt catalog.

S3 is the system of record; the mirror is derived. Several worker processes record concurrently: each append
is a put-if-absent of the next segment, and the loser of a race re-reads the head and retries. Segments are
written under the store's Object Lock retention (COMPLIANCE, ``s3.retention_days``).

The trail also SEALS documents: an ``ingest`` (outcome ``archived``) or ``renew`` (outcome ``ok``) event whose
detail carries ``metadata_sha256``, the SHA-256 of the metadata.json just committed. :meth:`AuditTrail.latest_seal`
returns the newest seal of a document from a verified chain, which `archive verify ID` compares with the stored
metadata.json.

The chain is unkeyed and anyone with the S3 keys can append a correctly chained segment, so a seal is trusted
only when it is MACed with ``audit.seal_key``, a secret that is not an S3 credential: ``detail["seal_mac"]`` is
HMAC-SHA256(seal_key, canonical JSON of ``{object, action, metadata_sha256, at, previous}``), ``at`` the event's
own time (as stored) and ``previous`` (``detail["previous_metadata_sha256"]``) the hash sealed by the
document's previous seal, ``""`` for its first. Read in chain order, a document's seal is accepted when its MAC
verifies, it is later than the seal in force and its ``previous`` is that seal's hash; a repeat of the seal in
force (same hash, same previous: two workers that raced to archive one document) changes nothing and is
skipped. Every other seal event of the document is refused, and the document's seal is ``FORGED``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
import unicodedata
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
    format_at,
    seal,
)
from pipeline.core.record import utcnow

log = logging.getLogger("archive.audit")

MAX_ATTEMPTS = 20
# action -> the outcome of a seal event: each writes a new metadata.json ("disposal.destroy": the residual record
# of a destroyed document, pipeline.app.destruction; "retention.change": a recomputed retention,
# pipeline.app.reschedule; "metadata.change": corrected metadata, pipeline.app.metadata_edit)
SEALS = {"ingest": "archived", "renew": "ok", "disposal.destroy": "ok", "retention.change": "ok",
         "metadata.change": "ok"}
SEAL_KEY = "metadata_sha256"
SEAL_MAC = "seal_mac"
SEAL_PREVIOUS = "previous_metadata_sha256"
NO_SEAL_KEY = ("audit.seal_key is not set: documents can be neither sealed nor checked against their seals "
               "(give it as <home>/secrets/audit.seal_key, ARCHIVE_AUDIT__SEAL_KEY_FILE or ARCHIVE_AUDIT__SEAL_KEY; "
               "`archive services up` generates one for a local instance)")


class AuditStore(Protocol):
    """What the trail needs of :class:`pipeline.archive.ArchiveStore`."""

    def append_audit(self, events: list[AuditEvent]) -> str: ...

    def audit_head(self, known: AuditEvent | None = None) -> AuditEvent | None: ...

    def read_audit(self) -> Iterable[AuditEvent | UnreadableEvent]: ...

    def audit_history(self) -> list[SegmentHistory]: ...


class AuditUnavailable(AppError):
    """The event could not be written to S3 (after retrying conflicts): the state change is not audited."""


class SealKeyMissing(AppError):
    """``audit.seal_key`` is not configured: nothing may be sealed (see :data:`NO_SEAL_KEY`)."""


@dataclass(frozen=True)
class AuditEntry:
    """One event to record with :meth:`AuditTrail.record_many`."""

    actor: str
    action: str
    object: str
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


def _claims_seal(action: str, outcome: str, detail: dict[str, Any]) -> bool:
    return SEALS.get(action) == outcome and isinstance(detail.get(SEAL_KEY), str)


def is_seal(event: AuditEvent) -> bool:
    """An event that CLAIMS to seal a document's metadata.json hash (whether its MAC verifies or not)."""
    return _claims_seal(event.action, event.outcome, event.detail)


def seal_mac(key: str, object_id: str, action: str, metadata_sha256: str, at: datetime, previous: str) -> str:
    """The ``seal_mac`` of a seal event (see the module docstring): hex HMAC-SHA256 under ``key``."""
    message = {"object": unicodedata.normalize("NFC", object_id), "action": unicodedata.normalize("NFC", action),
               "metadata_sha256": metadata_sha256, "at": format_at(at), "previous": previous}
    data = json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


@dataclass
class SealState:
    """The seals of one document, judged in chain order: ``accepted`` the seal in force (None: none verified),
    ``refused`` every other seal event of the document with the reason it was refused."""

    accepted: AuditEvent | None = None
    refused: list[tuple[AuditEvent, str]] = field(default_factory=list)

    @property
    def sealed(self) -> str | None:
        """The metadata.json hash in force."""
        return str(self.accepted.detail[SEAL_KEY]) if self.accepted is not None else None

    def judge(self, key: str, event: AuditEvent) -> None:
        """Accept, skip (a repeat of the seal in force) or refuse the next seal event of the document."""
        mac, previous = event.detail.get(SEAL_MAC), event.detail.get(SEAL_PREVIOUS, "")
        if not isinstance(mac, str) or not mac:
            self.refused.append((event, "it carries no seal_mac"))
            return
        if not isinstance(previous, str) or not hmac.compare_digest(
                mac, seal_mac(key, event.object, event.action, event.detail[SEAL_KEY], event.at, previous)):
            self.refused.append((event, "its seal_mac does not verify under audit.seal_key"))
            return
        last = self.accepted
        if last is not None and (event.detail[SEAL_KEY], previous) == (self.sealed, last.detail.get(SEAL_PREVIOUS, "")):
            return  # the same claim made again: nothing changes
        if last is not None and event.at <= last.at:
            self.refused.append((event, f"it is not later than the seal in force, {describe(last)}: a replayed seal"))
        elif previous != (self.sealed or ""):
            self.refused.append((event, f"it follows the sealed hash {previous or '(none)'}, but the seal in force "
                                        f"is {describe(last) if last else '(none)'}: a replayed seal"))
        else:
            self.accepted = event


def _name(actor: Any) -> str:
    return actor if isinstance(actor, str) else str(actor.name)  # an Actor is accepted too


class AuditTrail:
    """``record`` appends to S3 first, then calls ``mirror(event.model_dump())`` (``at`` a UTC datetime);
    a failing mirror is logged and never undoes or loses the S3 write."""

    def __init__(self, store: AuditStore, mirror: Callable[[dict[str, Any]], None] | None = None,
                 clock: Callable[[], datetime] = utcnow, max_attempts: int = MAX_ATTEMPTS,
                 seal_key: str = "") -> None:
        self.store = store
        self.seal_key = seal_key
        self.mirror = mirror
        self.clock = clock
        self.max_attempts = max_attempts
        self._head: AuditEvent | None = None
        self._head_read = False

    def require_seal_key(self) -> None:
        """Raise :class:`SealKeyMissing` unless seals can be written (and checked)."""
        if not self.seal_key:
            raise SealKeyMissing(NO_SEAL_KEY)

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
        """Seal several events and store them as ONE segment (all or none). A seal event (see
        :func:`is_seal`) gets its ``previous_metadata_sha256`` (default ``""``) and ``seal_mac``; without
        ``seal_key`` it is refused (:class:`SealKeyMissing`) before anything is written."""
        entries = list(entries)
        if not entries:
            return []
        if any(_claims_seal(e.action, e.outcome, e.detail) for e in entries):
            self.require_seal_key()
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
            detail = entry.detail
            if _claims_seal(entry.action, entry.outcome, detail):
                previous = str(detail.get(SEAL_PREVIOUS) or "")
                detail = {**detail, SEAL_PREVIOUS: previous, SEAL_MAC: seal_mac(
                    self.seal_key, entry.object, entry.action, detail[SEAL_KEY], at, previous)}
            event = seal(seq, at, entry.actor, entry.action, entry.object, entry.outcome, detail, prev)
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

    def latest_seal(self, object_id: str, known_head: int | None = None) -> tuple[ChainReport, SealState]:
        """Verify the whole trail (as :meth:`verify`) and judge the seals of ``object_id``. They are only to be
        trusted when the report is ok. Requires ``seal_key`` (:class:`SealKeyMissing`)."""
        report, seals = self.latest_seals(known_head, object_id)
        return report, seals.get(object_id, SealState())

    def latest_seals(self, known_head: int | None = None, object_id: str | None = None
                     ) -> tuple[ChainReport, dict[str, SealState]]:
        """Verify the whole trail (as :meth:`verify`) and judge the seals of every document (of ``object_id``
        only, when given), in ONE pass over S3. Trust them only when the report is ok."""
        self.require_seal_key()
        seals: dict[str, SealState] = {}

        def watch(items: Iterable[AuditEvent | UnreadableEvent]) -> Iterator[AuditEvent | UnreadableEvent]:
            for item in items:  # in stored (chain) order
                if isinstance(item, AuditEvent) and is_seal(item) and object_id in (None, item.object):
                    seals.setdefault(item.object, SealState()).judge(self.seal_key, item)
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
    sealing existed, or the ingest event was never written); ``FORGED`` (the trail holds a seal event of the
    document that was refused: no or a wrong MAC, or a replay; ``forged`` lists their seqs); ``UNVERIFIED``
    (the trail itself is broken, or no ``audit.seal_key`` is configured, so no seal in it can be trusted).
    ``problem`` is the one line to report when not ``match``."""

    status: str
    problem: str | None = None
    event: AuditEvent | None = None
    actual: str | None = None
    forged: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seal": self.status, "metadata_sha256": self.actual}
        if self.event is not None:
            data["sealed_sha256"] = self.event.detail[SEAL_KEY]
            data["seal_event"] = {"seq": self.event.seq, "action": self.event.action, "actor": self.event.actor,
                                  "at": self.event.at.isoformat()}
        if self.forged:
            data["forged_seals"] = list(self.forged)
        return data


def check_seal(trail: AuditTrail, object_id: str, metadata: bytes | None,
               known_head: int | None = None) -> SealCheck:
    """Hash ``metadata`` (the stored metadata.json bytes, None if absent) and compare it with the seal in force
    of ``object_id`` in the trail, whose chain is verified from S3 in the same pass."""
    actual = hashlib.sha256(metadata).hexdigest() if metadata is not None else None
    if not trail.seal_key:
        return SealCheck("UNVERIFIED", NO_SEAL_KEY, None, actual)
    report, state = trail.latest_seal(object_id, known_head)
    return judge_seal(report, state, object_id, metadata)


def judge_seal(report: ChainReport, state: SealState, object_id: str, metadata: bytes | None) -> SealCheck:
    """:func:`check_seal` against seals already judged (:meth:`AuditTrail.latest_seals`: one pass over the trail
    for many documents, as the fixity audit does)."""
    actual = hashlib.sha256(metadata).hexdigest() if metadata is not None else None
    event = state.accepted
    if not report.ok:
        return SealCheck("UNVERIFIED", f"the audit trail is broken, so no seal in it can be trusted: {report.message}",
                         event, actual)
    if state.refused:
        listing = "; ".join(f"{describe(e)} by {e.actor}: {why}" for e, why in state.refused)
        return SealCheck("FORGED", f"the audit trail holds a FORGED seal of {object_id}, so its stored record "
                                   f"cannot be trusted: {listing}", event, actual,
                         tuple(e.seq for e, _ in state.refused))
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
