"""The audit trail's event model and hash chain: pure functions, no I/O.

Every state change of the archive becomes one :class:`AuditEvent`. Events are numbered from 1 and chained:
each carries ``prev``, the hash of the event before it (``GENESIS`` for event 1), and ``hash``, the SHA-256 of
its own canonical form. Changing, removing or reordering a stored event therefore breaks the chain, and
:func:`check_chain` names the first break.

Canonical form (what ``hash`` covers), chosen so that any language can recompute it:

* every field except ``hash``: ``seq, at, actor, action, object, outcome, detail, prev``;
* JSON with keys sorted at every level, no whitespace (``separators=(",", ":")``), non-ASCII written as
  UTF-8 (``ensure_ascii=False``), NaN/Infinity refused;
* all text (field values, ``detail`` keys and values) in Unicode NFC, so NFC/NFD spellings of one Vietnamese
  name hash alike;
* ``at`` in UTC as ISO 8601 with microseconds and ``Z``: ``2026-11-29T03:00:00.000000Z``. Times are stored
  in UTC and shown in Vietnam time (+07:00) in messages only.

The stored line of an event (:func:`event_line`) is the same JSON plus ``hash``.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.core.dates import VIETNAM  # for messages

__all__ = [
    "GENESIS",
    "VIETNAM",
    "AuditEvent",
    "ChainReport",
    "UnreadableEvent",
    "canonical_bytes",
    "canonical_dict",
    "check_chain",
    "describe",
    "event_line",
    "format_at",
    "parse_event_line",
    "seal",
]

GENESIS = "0" * 64  # ``prev`` of event 1
_HEX64 = r"^[0-9a-f]{64}$"


def _nfc(value: Any) -> Any:
    """NFC for every string inside a JSON-like value (dict keys included)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(str(k)): _nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nfc(v) for v in value]
    return value


def format_at(at: datetime) -> str:
    """``at`` as stored and hashed: UTC, microseconds, ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditEvent(BaseModel):
    """One audited state change. Immutable once sealed; build it with :func:`seal`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(ge=1)
    at: datetime  # timezone-aware, normalised to UTC
    actor: str
    action: str  # ingest, quarantine, read, verify, renew, user.add, reindex, …
    object: str  # document id, batch id, user name, …
    outcome: str  # ok, denied, failed, archived, duplicate, quarantined, …
    detail: dict[str, Any] = Field(default_factory=dict)  # JSON-safe
    prev: str = Field(pattern=_HEX64)
    hash: str = Field(pattern=_HEX64)

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("audit times must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("actor", "action", "object", "outcome")
    @classmethod
    def _text(cls, value: str) -> str:
        return unicodedata.normalize("NFC", value)

    def to_json_dict(self) -> dict[str, Any]:
        """The stored form: JSON-safe, ``at`` as in :func:`format_at`."""
        return {**canonical_dict(self), "hash": self.hash}


def canonical_dict(event: AuditEvent) -> dict[str, Any]:
    """Every field except ``hash``, JSON-safe and NFC (see the module docstring)."""
    return {
        "seq": event.seq,
        "at": format_at(event.at),
        "actor": _nfc(event.actor),
        "action": _nfc(event.action),
        "object": _nfc(event.object),
        "outcome": _nfc(event.outcome),
        "detail": _nfc(event.detail),
        "prev": event.prev,
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(event: AuditEvent) -> bytes:
    """The bytes ``hash`` is the SHA-256 of."""
    return _dumps(canonical_dict(event)).encode("utf-8")


def _sha256(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def seal(seq: int, at: datetime, actor: str, action: str, object: str, outcome: str,
         detail: dict[str, Any] | None, prev: str) -> AuditEvent:
    """A new event with its hash. ``detail`` must be JSON-safe (it is stored as its JSON round trip)."""
    try:
        detail_json = json.loads(_dumps(_nfc(dict(detail or {}))))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit detail is not JSON-safe: {exc}") from exc
    draft = AuditEvent(seq=seq, at=at, actor=actor, action=action, object=object, outcome=outcome,
                       detail=detail_json, prev=prev, hash=GENESIS)
    return draft.model_copy(update={"hash": _sha256(draft)})


def event_line(event: AuditEvent) -> str:
    """One event as one line of a stored segment (no newline)."""
    return _dumps(event.to_json_dict())


@dataclass(frozen=True)
class UnreadableEvent:
    """Stored bytes that are not an event (garbage, truncated, invalid fields). ``seq`` is where the reader
    expected one, when it knows; :func:`check_chain` reports it as a changed event."""

    seq: int | None
    where: str  # e.g. "audit/000000000003.jsonl line 1"
    reason: str


def parse_event_line(line: str | bytes, seq_hint: int | None = None, where: str = "") -> AuditEvent | UnreadableEvent:
    """A stored line back into an event; never raises (a bad line becomes an :class:`UnreadableEvent`)."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return AuditEvent.model_validate(data)
    except (UnicodeDecodeError, ValueError, ValidationError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return UnreadableEvent(seq_hint, where, reason[:200])


# ---- verification ----------------------------------------------------------------------------------------

CHANGED, REMOVED, REORDERED = "changed", "removed", "reordered"


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`check_chain`: ``ok``, or the FIRST break (``kind``, ``seq``, ``message``).

    kind ``changed``: an event's content no longer matches its hash (or is unreadable), or an event was
    rewritten with a recomputed hash so the next event no longer links to it (``seq`` is the rewritten one).
    kind ``removed``: ``seq`` is the first missing event. kind ``reordered``: ``seq`` is the event found out
    of place. ``checked`` counts the events read before the break (all of them when ``ok``); ``head`` is
    the last intact event's seq.
    """

    ok: bool
    checked: int
    head: int = 0
    kind: str | None = None
    seq: int | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "head": self.head, "kind": self.kind, "seq": self.seq,
                "message": self.message}


def _short(value: str) -> str:
    return value[:4] + "…" if len(value) > 16 else value


def describe(event: AuditEvent) -> str:
    """``event 3 (ingest of 5e2f…, 2026-11-29 10:00 +07:00)``."""
    local = event.at.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M +07:00")
    return f"event {event.seq} ({event.action} of {_short(event.object)}, {local})"


def _missing(first: int, last: int) -> str:
    return f"event {first} is" if first == last else f"events {first}–{last} are"


def check_chain(events: Iterable[AuditEvent | UnreadableEvent], known_head: int | None = None) -> ChainReport:
    """Walk the events in the given (stored) order and report the first break.

    ``known_head``: the seq of the last event known to exist from elsewhere (e.g. the catalog mirror); a trail
    that ends before it is reported as ``removed``. The events are held in memory (one pass to look ahead
    for out-of-place events)."""
    items = list(events)
    last: AuditEvent | None = None
    checked = 0

    def broken(kind: str, seq: int | None, message: str) -> ChainReport:
        return ChainReport(False, checked, last.seq if last else 0, kind, seq, message)

    for index, item in enumerate(items):
        expected = last.seq + 1 if last else 1
        if isinstance(item, UnreadableEvent):
            seq = item.seq if item.seq is not None else expected
            return broken(CHANGED, seq, f"event {seq} was changed after it was written: {item.where} is "
                                        f"unreadable ({item.reason})")
        if _sha256(item) != item.hash:
            return broken(CHANGED, item.seq, f"{describe(item)} was changed after it was written")
        if item.seq < expected:
            if last is not None and item.seq == last.seq:
                return broken(REORDERED, item.seq, f"{describe(item)} appears twice (a fork or a copied event)")
            return broken(REORDERED, item.seq, f"{describe(item)} appears after event {expected - 1}: "
                                               f"the trail was reordered")
        if item.seq > expected:
            later = {it.seq for it in items[index + 1:] if isinstance(it, AuditEvent)}
            if any(s in later for s in range(expected, item.seq)):
                return broken(REORDERED, item.seq, f"{describe(item)} appears where event {expected} belongs: "
                                                   f"the trail was reordered")
            gap_end = item.seq - 1
            return broken(REMOVED, expected, f"{_missing(expected, gap_end)} missing (removed), found "
                                             f"{describe(item)} after "
                                             f"{describe(last) if last else 'the start of the trail'}")
        if last is None and item.prev != GENESIS:
            return broken(CHANGED, item.seq, f"{describe(item)} does not start the chain (prev is not genesis)")
        if last is not None and item.prev != last.hash:
            return broken(CHANGED, last.seq, f"{describe(last)} was rewritten with a recomputed hash: event "
                                             f"{item.seq} no longer links to it (or event {item.seq} was)")
        last = item
        checked += 1
    if known_head is not None and (last.seq if last else 0) < known_head:
        first = (last.seq if last else 0) + 1
        return broken(REMOVED, first, f"{_missing(first, known_head)} missing (removed): the trail ends at "
                                      f"{describe(last) if last else 'nothing'} but event {known_head} was "
                                      f"recorded")
    return ChainReport(True, checked, last.seq if last else 0)
