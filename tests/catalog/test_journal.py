"""The batch journal survives closing and reopening the catalog."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from pipeline.catalog import AlreadyExists, Catalog, NotFound
from pipeline.core.vocabulary import DocState


def test_journal_survives_reopen(catalog_url: str) -> None:
    with Catalog(catalog_url) as cat:
        cat.start_batch("b1", "Lô tháng 3", "/srv/intake/lo-3", "lan")
        cat.plan_item("b1", "hop-01/a.pdf", "aa" * 32)
        cat.plan_item("b1", "hop-01/b.pdf", None)
        cat.plan_item("b1", "hop-02/c.pdf", "cc" * 32)
        cat.set_item_state("b1", "hop-01/a.pdf", DocState.PROCESSING, stage="ocr")
        cat.set_item_state("b1", "hop-01/b.pdf", "quarantined", stage="scan", reason="ảnh hỏng (trang 2)")
        cat.set_item_state("b1", "hop-02/c.pdf", DocState.PENDING)

    with Catalog(catalog_url) as cat:  # a restart: new engine, new connections
        items = cat.batch_items("b1")
        assert [(i.source_path, i.state, i.stage, i.reason, i.doc_id) for i in items] == [
            ("hop-01/a.pdf", DocState.PROCESSING, "ocr", "", "aa" * 32),
            ("hop-01/b.pdf", DocState.QUARANTINED, "scan", "ảnh hỏng (trang 2)", None),
            ("hop-02/c.pdf", DocState.PENDING, "", "", "cc" * 32),
        ]
        assert all(i.updated_at.utcoffset() == timedelta(0) for i in items)
        batch = cat.get_batch("b1")
        assert batch is not None and batch.state == "running" and batch.finished_at is None
        assert batch.name == "Lô tháng 3" and batch.actor == "lan" and batch.root == "/srv/intake/lo-3"
        assert batch.counts == {DocState.PROCESSING: 1, DocState.QUARANTINED: 1, DocState.PENDING: 1}
        # resume: the pending and processing items finish
        cat.set_item_state("b1", "hop-01/a.pdf", DocState.ARCHIVED, stage="archive")
        cat.set_item_state("b1", "hop-02/c.pdf", DocState.DUPLICATE, reason="trùng " + "dd" * 32, doc_id="dd" * 32)
        done = cat.finish_batch("b1", "done")
        assert done.finished_at is not None and done.finished_at >= done.started_at

    with Catalog(catalog_url) as cat:
        batch = cat.get_batch("b1")
        assert batch.state == "done" and batch.finished_at is not None
        assert batch.counts == {DocState.ARCHIVED: 1, DocState.QUARANTINED: 1, DocState.DUPLICATE: 1}
        items = {i.source_path: i for i in cat.batch_items("b1")}
        assert items["hop-01/a.pdf"].doc_id == "aa" * 32  # doc_id=None kept the planned id
        assert items["hop-02/c.pdf"].doc_id == "dd" * 32
        assert all(i.state.final for i in items.values())


def test_journal_errors_and_listing(catalog: Catalog) -> None:
    catalog.start_batch("b1", "một", "/a", "lan")
    catalog.start_batch("b2", "hai", "/b", "an")
    with pytest.raises(AlreadyExists):
        catalog.start_batch("b1", "again", "/c", "x")
    with pytest.raises(NotFound):
        catalog.plan_item("nope", "x.pdf", None)
    with pytest.raises(NotFound):
        catalog.set_item_state("nope", "x.pdf", "failed")
    with pytest.raises(NotFound):
        catalog.finish_batch("nope", "done")
    with pytest.raises(ValueError):
        catalog.set_item_state("b1", "x.pdf", "exploded")
    assert catalog.get_batch("nope") is None
    assert catalog.batch_items("nope") == []
    assert [b.id for b in catalog.list_batches()] == ["b2", "b1"]  # newest first
    # The same path in two batches is two items; re-planning one path updates it instead of duplicating.
    catalog.plan_item("b1", "x.pdf", "11" * 32)
    catalog.plan_item("b2", "x.pdf", "22" * 32)
    catalog.set_item_state("b1", "x.pdf", DocState.FAILED, stage="archive", reason="S3 down")
    catalog.plan_item("b1", "x.pdf", "33" * 32)
    [item] = catalog.batch_items("b1")
    assert (item.state, item.stage, item.reason, item.doc_id) == (DocState.PLANNED, "", "", "33" * 32)
    assert catalog.batch_items("b2")[0].doc_id == "22" * 32
    # An item never planned can still be recorded.
    catalog.set_item_state("b2", "late.pdf", DocState.FAILED, reason="storage down")
    assert [i.source_path for i in catalog.batch_items("b2")] == ["x.pdf", "late.pdf"]


def test_concurrent_writers(catalog_url: str) -> None:
    """Several workers (own engines, as separate processes would have) update one batch at once."""
    with Catalog(catalog_url) as cat:
        cat.start_batch("big", "song song", "/in", "system")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with Catalog(catalog_url) as cat:
                for i in range(15):
                    path = f"w{n}/{i:03}.pdf"
                    cat.plan_item("big", path, None)
                    cat.set_item_state("big", path, DocState.PROCESSING, stage="ocr")
                    cat.set_item_state("big", path, DocState.ARCHIVED, stage="archive", doc_id=f"{n:02}{i:062}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    with Catalog(catalog_url) as cat:
        items = cat.batch_items("big")
        assert len(items) == 60 and {i.state for i in items} == {DocState.ARCHIVED}
        assert cat.get_batch("big").counts == {DocState.ARCHIVED: 60}


def test_a_batch_and_its_planned_items_are_written_together(catalog: Catalog) -> None:
    """One transaction: an item that cannot be written (a batch id already taken) leaves no batch behind, and a new
    batch comes with every planned item, so a process killed while journalling never leaves a batch that looks
    complete with items missing (resume would never see them)."""
    catalog.start_batch("b1", "lô", "/in/lo", "lan", [("a.pdf", "aa" * 32, 0), ("luong.pdf#2", None, None)])
    assert [(i.source_path, i.state, i.doc_id) for i in catalog.batch_items("b1")] == [
        ("a.pdf", DocState.PLANNED, "aa" * 32), ("luong.pdf#2", DocState.PLANNED, None)]
    with pytest.raises(AlreadyExists):
        catalog.start_batch("b1", "lô", "/in/lo", "lan", [("b.pdf", None, None)])
    assert [i.source_path for i in catalog.batch_items("b1")] == ["a.pdf", "luong.pdf#2"]
    with pytest.raises(Exception):  # noqa: B017 - the database refuses a NULL path: nothing of b2 is kept
        catalog.start_batch("b2", "lô", "/in/lo", "lan", [("c.pdf", None, None), (None, None, None)])  # type: ignore[list-item]
    assert catalog.get_batch("b2") is None
