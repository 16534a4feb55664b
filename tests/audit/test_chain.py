"""The event model and the chain check, without S3 (pipeline.core.audit)."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.core.audit import (
    GENESIS,
    AuditEvent,
    UnreadableEvent,
    canonical_bytes,
    check_chain,
    event_line,
    parse_event_line,
    seal,
)

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
DOC = "5e2f" + "a" * 60


def chain(n: int) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        event = seal(seq, T0 + timedelta(minutes=seq - 1), "lan.nguyen", "ingest", DOC, "archived",
                     {"batch": "lô-01", "pages": seq}, prev)
        events.append(event)
        prev = event.hash
    return events


def test_canonical_form_is_documented_json() -> None:
    event = seal(1, datetime(2026, 11, 29, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=7))), "lan", "ingest",
                 "x", "ok", {"b": 1, "a": "Tối mật"}, GENESIS)
    raw = canonical_bytes(event)
    assert raw == ('{"action":"ingest","actor":"lan","at":"2026-11-29T03:00:00.000005Z","detail":{"a":"Tối mật",'
                   '"b":1},"object":"x","outcome":"ok","prev":"' + GENESIS + '","seq":1}').encode()
    assert event.hash == hashlib.sha256(raw).hexdigest()
    assert event.at.tzinfo == UTC
    assert json.loads(event_line(event))["hash"] == event.hash
    assert parse_event_line(event_line(event)) == event


def test_text_is_nfc_so_spellings_hash_alike() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Đức")
    a = seal(1, T0, nfd, "user.add", nfd, "ok", {nfd: nfd}, GENESIS)
    b = seal(1, T0, "Nguyễn Văn Đức", "user.add", "Nguyễn Văn Đức", "ok", {"Nguyễn Văn Đức": "Nguyễn Văn Đức"},
             GENESIS)
    assert a.hash == b.hash and a.actor == b.actor


def test_seal_refuses_naive_times_and_non_json_detail() -> None:
    with pytest.raises(ValueError):
        seal(1, datetime(2026, 1, 1), "a", "read", "x", "ok", {}, GENESIS)
    with pytest.raises(ValueError):
        seal(1, T0, "a", "read", "x", "ok", {"n": float("nan")}, GENESIS)
    with pytest.raises(ValueError):
        seal(1, T0, "a", "read", "x", "ok", {"o": object()}, GENESIS)


def test_intact_chain() -> None:
    report = check_chain(chain(5))
    assert report.ok and report.checked == 5 and report.head == 5 and report.kind is None
    assert check_chain([]).ok


def test_changed_event_is_named_with_vietnam_time() -> None:
    events = chain(5)
    events[2] = events[2].model_copy(update={"outcome": "duplicate"})
    report = check_chain(events)
    assert (report.ok, report.kind, report.seq, report.checked) == (False, "changed", 3, 2)
    assert report.message == "event 3 (ingest of 5e2f…, 2026-11-29 10:02 +07:00) was changed after it was written"


def test_rehashed_event_breaks_the_next_link() -> None:
    events = chain(5)
    e = events[2]
    events[2] = seal(e.seq, e.at, e.actor, e.action, e.object, "failed", e.detail, e.prev)
    report = check_chain(events)
    assert (report.kind, report.seq) == ("changed", 3)
    assert "event 4 no longer links" in report.message


def test_removed_events() -> None:
    events = chain(6)
    report = check_chain(events[:2] + events[4:])
    assert (report.kind, report.seq) == ("removed", 3)
    assert report.message.startswith("events 3–4 are missing")
    assert check_chain(events[1:]).seq == 1 and check_chain(events[1:]).kind == "removed"
    tail = check_chain(events[:4], known_head=6)
    assert (tail.kind, tail.seq) == ("removed", 5)
    assert check_chain(events, known_head=6).ok


def test_reordered_events() -> None:
    events = chain(5)
    swapped = [events[0], events[3], events[2], events[1], events[4]]
    report = check_chain(swapped)
    assert (report.kind, report.seq) == ("reordered", 4)
    back = check_chain([events[0], events[1], events[2], events[1]])
    assert (back.kind, back.seq) == ("reordered", 2)
    fork = seal(3, T0, "other", "read", "y", "ok", {}, events[1].hash)
    forked = check_chain([*events[:3], fork])
    assert (forked.kind, forked.seq) == ("reordered", 3) and "twice" in forked.message


def test_unreadable_entry_is_changed() -> None:
    events = chain(3)
    bad = parse_event_line(b"\xff\xfe garbage", 2, "audit/000000000002.jsonl line 1")
    assert isinstance(bad, UnreadableEvent)
    report = check_chain([events[0], bad, events[2]])
    assert (report.kind, report.seq) == ("changed", 2)
    assert isinstance(parse_event_line('{"seq": 1}', 1), UnreadableEvent)
    assert isinstance(parse_event_line("[1, 2]", 1), UnreadableEvent)
