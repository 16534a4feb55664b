"""Object Lock retention: WORM from the first write.

Every object the archive writes — a document's originals, ``archive.pdf``, page texts and ``metadata.json``
(and the new versions a timestamp renewal writes), quarantined inputs and their ``reason.json``, audit
segments — asks the store's :class:`RetentionPolicy`, per document and object role, for the lock to set IN
THE SAME PUT. A locked version can be neither deleted nor have its retention shortened or switched to
GOVERNANCE, not even with the application's own keys: the storage refuses (S3 ``AccessDenied``). An
overwrite or a delete without a version id only adds a new version or a delete marker; the locked version
stays readable by its version id.

:class:`MinimumRetention` is the policy today: COMPLIANCE until now + ``s3.retention_days`` (default 3653
days, ten years) for every object. It is the ONE place to change when the retention schedule sets a period
per record class (``record.metadata.classification``, ``record.metadata.doc_type``) or legal holds: the store
and the audit log only pass ``(record, role)`` and write what the policy answers.

There is deliberately no "no retention" policy: the store defaults to :func:`policy_for` its settings, and
a bucket without Object Lock is refused (:mod:`pipeline.archive.bucket`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from minio.commonconfig import COMPLIANCE
from minio.retention import Retention

from pipeline.core.record import DocumentRecord
from pipeline.core.settings import RetentionSettings, S3Settings

# Object roles without a document path of their own (document roles are ``archive.pdf``, ``metadata.json``,
# ``original/<file>``, ``text/0001.txt``: see pipeline.archive.layout).
QUARANTINE = "quarantine"  # a quarantined input, byte for byte
QUARANTINE_REASON = "quarantine/reason.json"  # its reason
AUDIT = "audit"  # an audit trail segment
PROOF = "disposal"  # a disposal proposal and its execution claims: the proof of a destruction, kept for good


class RetentionPolicy(Protocol):
    def retention_for(self, record: DocumentRecord | None, role: str) -> Retention | None:
        """Object Lock retention (mode + retain-until) for this object, or None for none."""
        ...

    def legal_hold_for(self, record: DocumentRecord | None, role: str) -> bool:
        """Whether the object is written under legal hold."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


class MinimumRetention:
    """COMPLIANCE mode until now + ``days`` for every object (whole seconds: S3 dates carry no fractions);
    no legal hold. ``clock`` is for tests."""

    mode = COMPLIANCE

    def __init__(self, days: int, clock: Callable[[], datetime] = _now) -> None:
        if days < 1:
            raise ValueError(f"retention must be at least one day, not {days}")
        self.days = days
        self.clock = clock

    def retain_until(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0) + timedelta(days=self.days)

    def retention_for(self, record: DocumentRecord | None, role: str) -> Retention:
        return Retention(self.mode, self.retain_until())

    def legal_hold_for(self, record: DocumentRecord | None, role: str) -> bool:
        return False

    def __repr__(self) -> str:
        return f"MinimumRetention({self.mode}, {self.days} days)"



class ScheduleRetention:
    """The retention schedule on the storage: each document's objects are locked (COMPLIANCE by default) until
    the record's ``retain_until``; a permanent record for a rolling horizon of ``permanent_lock_years``
    (re-extended by ``archive retention extend``); a record whose trigger has not happened yet (an open
    dossier) for the floor ``floor_days``; every document at least ``safety_days`` from each write, so one
    already past its retention when it arrives is still locked that long (never unlocked: there is no
    "no retention" policy). Objects of no document (quarantine, audit segments) keep the floor. Permanent
    locks last the horizon from each write; `archive retention extend` re-locks them from now."""

    def __init__(self, floor_days: int, mode: str = COMPLIANCE, permanent_lock_years: int = 10,
                 safety_days: int = 30, clock: Callable[[], datetime] = _now) -> None:
        self.floor = MinimumRetention(floor_days, clock)
        self.mode = mode
        self.permanent_lock_years = permanent_lock_years
        self.safety_days = safety_days
        self.clock = clock

    def retain_until(self, record: DocumentRecord) -> datetime | None:
        now = self.clock().astimezone(UTC).replace(microsecond=0)
        facts = record.retention
        if facts.permanent or record.disposal is not None:  # a residual record is the proof: kept for good
            return now + timedelta(days=round(365.25 * self.permanent_lock_years))
        if record.retain_until is None:
            return self.floor.retain_until()
        end = datetime(record.retain_until.year, record.retain_until.month, record.retain_until.day, tzinfo=UTC)
        end += timedelta(days=1)  # through the whole last day, in any time zone
        end = max(end, now + timedelta(days=self.safety_days))  # never less than the safety lock
        return end if end > now else None  # safety_days 0 (tests only): past its retention, not locked

    def retention_for(self, record: DocumentRecord | None, role: str) -> Retention | None:
        if role == PROOF:
            return Retention(self.mode, self.clock().astimezone(UTC).replace(microsecond=0)
                             + timedelta(days=round(365.25 * self.permanent_lock_years)))
        if record is None or role in (AUDIT, QUARANTINE, QUARANTINE_REASON) or not (
                record.retention.class_code or record.disposal):
            return self.floor.retention_for(record, role)
        until = self.retain_until(record)
        return None if until is None else Retention(self.mode, until)

    def legal_hold_for(self, record: DocumentRecord | None, role: str) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ScheduleRetention({self.mode}, floor {self.floor.days} days)"


def policy_for(s3: S3Settings, retention: RetentionSettings | None = None) -> RetentionPolicy:
    """The retention every archive store writes with: the schedule's (``retention``) for documents, and
    COMPLIANCE for ``s3.retention_days`` for everything else (and when no schedule settings are given)."""
    if retention is None:
        return MinimumRetention(s3.retention_days)
    return ScheduleRetention(s3.retention_days, retention.mode, retention.permanent_lock_years,
                             retention.safety_days)
