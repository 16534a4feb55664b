"""Snapshots: the catalog rebuilt from its sources equals the live one, whatever the order and the engine."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.catalog import Catalog
from pipeline.core.vocabulary import Classification, Role

from .conftest import DatabaseFactory
from .helpers import audit_event, make_record

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RECORDS = [make_record(f"s{i}", classification=list(Classification)[i % 5], offset_min=i, pages=1 + i % 3)
           for i in range(7)]
EVENTS = [audit_event(s, obj=RECORDS[s % 7].id) for s in range(1, 9)]
USERS = [("lan", {Role.STAFF}, "mat"), ("an", {Role.ADMIN}, "tuyet-mat"), ("hoa", {Role.ARCHIVIST}, "public")]


def _fill(cat: Catalog, reverse: bool) -> None:
    order = list(reversed(range(7))) if reverse else list(range(7))
    for i in order:
        cat.upsert_document(RECORDS[i])
    for event in (reversed(EVENTS) if reverse else EVENTS):
        cat.add_audit_event(event)
    for name, roles, clearance in (reversed(USERS) if reverse else USERS):
        cat.add_user(name, roles, clearance, created_at=CREATED)


def test_snapshot_independent_of_insertion_order(databases: DatabaseFactory) -> None:
    with Catalog(databases.new_url()) as one, Catalog(databases.new_url()) as two:
        _fill(one, reverse=False)
        _fill(two, reverse=True)
        two.start_batch("b", "journal is not part of the snapshot", "/x", "an")
        snap = one.snapshot()
        assert snap == two.snapshot()
        assert len(snap["documents"]) == 7 and len(snap["audit"]) == 8 and len(snap["users"]) == 3
        # ...and the comparison can fail: one differing field is seen.
        two.update_user("hoa", disabled=True)
        assert one.snapshot() != two.snapshot()


def test_rebuild_from_records_equals_live(databases: DatabaseFactory) -> None:
    """What a rebuild does: read every record and audit event from the source, write them into an empty catalog."""
    with Catalog(databases.new_url()) as live, Catalog(databases.new_url()) as rebuilt:
        _fill(live, reverse=False)
        live.upsert_document(RECORDS[0].model_copy(update={"pdfa": "3B"}))  # a later update wins
        top = Classification.TUYET_MAT.rank
        for record in sorted(live.iter_records(top), key=lambda r: r.id, reverse=True):
            rebuilt.upsert_document(record)
        for event in live.query_audit():
            rebuilt.add_audit_event(event)
        for user in live.list_users():
            rebuilt.add_user(user.name, user.roles, user.clearance, created_at=user.created_at)
        assert rebuilt.snapshot() == live.snapshot()
        # Rebuilding twice over the same catalog (delete_all first) gives the same result.
        rebuilt.delete_all_documents()
        rebuilt.delete_all_audit()
        assert rebuilt.snapshot() != live.snapshot()
        for record in live.iter_records(top):
            rebuilt.upsert_document(record)
        for event in live.query_audit():
            rebuilt.add_audit_event(event)
        assert rebuilt.snapshot() == live.snapshot()


def test_snapshot_equal_across_engines(tmp_path, postgres_url: str) -> None:
    pg = DatabaseFactory("postgresql", tmp_path, postgres_url)
    try:
        with Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}") as lite, Catalog(pg.new_url()) as post:
            _fill(lite, reverse=False)
            _fill(post, reverse=True)
            assert lite.snapshot() == post.snapshot()
    finally:
        pg.cleanup()
