"""The audit mirror: idempotent by (seq, hash), ordered by seq, filtered by object, actor and date range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.catalog import AuditConflict, Catalog

from .helpers import ICT, audit_event


def test_audit_order_filters_and_round_trip(catalog: Catalog) -> None:
    assert catalog.last_audit_event() is None
    events = [audit_event(s, actor="lan" if s % 2 else "an", obj="doc-1" if s <= 3 else "doc-2") for s in range(1, 7)]
    for event in (events[4], events[0], events[5], events[2], events[1], events[3]):  # out of order
        assert catalog.add_audit_event(event) is True
    assert catalog.query_audit() == events  # exact dicts, ordered by seq
    assert catalog.last_audit_event() == events[5]
    assert [e["seq"] for e in catalog.query_audit(object_id="doc-1")] == [1, 2, 3]
    assert [e["seq"] for e in catalog.query_audit(actor="lan")] == [1, 3, 5]
    assert [e["seq"] for e in catalog.query_audit(actor="lan", object_id="doc-2")] == [5]
    assert [e["seq"] for e in catalog.query_audit(limit=2)] == [1, 2]
    # date range: [from, to) in any timezone; event s is at 2026-03-01T00:00Z + s hours
    start = datetime(2026, 3, 1, 2, tzinfo=UTC)
    assert [e["seq"] for e in catalog.query_audit(date_from=start)] == [2, 3, 4, 5, 6]
    assert [e["seq"] for e in catalog.query_audit(date_to=start)] == [1]
    assert [e["seq"] for e in catalog.query_audit(date_from=start.astimezone(ICT),
                                                  date_to=(start + timedelta(hours=3)).astimezone(ICT))] == [2, 3, 4]
    assert catalog.query_audit(date_from=datetime(2027, 1, 1, tzinfo=UTC)) == []
    assert catalog.query_audit(object_id="doc-%") == []


def test_audit_idempotent_and_conflicting(catalog: Catalog) -> None:
    event = audit_event(1, detail={"lý_do": "Tuyệt mật", "ids": ["a", "b"], "nested": {"k": 1}})
    assert catalog.add_audit_event(event) is True
    assert catalog.add_audit_event(dict(event)) is False
    assert catalog.query_audit() == [event]
    with pytest.raises(AuditConflict):
        catalog.add_audit_event({**event, "hash": "f" * 64})
    assert catalog.query_audit() == [event]
    assert catalog.delete_all_audit() == 1
    assert catalog.query_audit() == [] and catalog.last_audit_event() is None


def test_audit_at_normalised_to_utc(catalog: Catalog) -> None:
    local = datetime(2026, 5, 1, 8, 0, 0, 250000, tzinfo=ICT)
    event = audit_event(7, at=local)
    event["at"] = local.isoformat()  # given with +07:00
    catalog.add_audit_event(event)
    [back] = catalog.query_audit()
    assert back["at"] == "2026-05-01T01:00:00.250000+00:00"
    assert datetime.fromisoformat(back["at"]) == local
