"""Many readers (issue 16): one writer publishes committed snapshots; two reader processes open them read-only
and move to each newer one. Real engines, real processes."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from search import SearchQuery, open_index
from search.snapshots import CURRENT, KEEP, SnapshotReader, newest, publish
from tests.search.corpus import DOCS

PUBLIC = [d for d in DOCS if d.classification == "public"]


def _reader(engine: str, shared: str, wanted: list[int], out: multiprocessing.Queue) -> None:
    """A replica process: wait for each count in ``wanted`` and report what it found then."""
    reader = SnapshotReader(engine, Path(shared))
    deadline = time.monotonic() + 60
    try:
        for count in wanted:
            while time.monotonic() < deadline:
                try:
                    if reader.count() == count:
                        break
                except FileNotFoundError:  # nothing published yet
                    pass
                time.sleep(0.05)
            hits = reader.search(SearchQuery("sot xuat huyet")).hits
            out.put((os.getpid(), count, reader.count(), [h.id for h in hits], reader.name))
    finally:
        reader.close()


def test_two_reader_processes_follow_one_writer(engine: str, tmp_path: Path) -> None:
    index_dir, shared = tmp_path / "writer", tmp_path / "shared"
    writer = open_index(engine, index_dir)
    first = [d for d in PUBLIC if d.id != "d12"]
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    readers = [ctx.Process(target=_reader, args=(engine, str(shared), [len(first), len(PUBLIC)], out))
               for _ in range(2)]
    for proc in readers:
        proc.start()
    try:
        writer.add(first)
        one, _ = publish(index_dir, shared)
        seen = [out.get(timeout=90) for _ in readers]
        assert {(count, total, tuple(ids)) for _, count, total, ids, _ in seen} == {(len(first), len(first), ())}
        writer.add([d for d in PUBLIC if d.id == "d12"])  # the dengue plan arrives
        two, _ = publish(index_dir, shared)
        seen = [out.get(timeout=90) for _ in readers]
        assert {(total, ids[0], name) for _, _, total, ids, name in seen} == {(len(PUBLIC), "d12", two.name)}
        assert len({pid for pid, *_ in seen}) == 2 and one.name != two.name
    finally:
        for proc in readers:
            proc.join(timeout=30)
        writer.close()
    assert all(proc.exitcode == 0 for proc in readers)


def test_a_snapshot_is_read_only_shares_segments_and_old_ones_are_pruned(engine: str, tmp_path: Path) -> None:
    index_dir, shared = tmp_path / "writer", tmp_path / "shared"
    writer = open_index(engine, index_dir)
    writer.add(PUBLIC[:5])
    snap, new = publish(index_dir, shared)
    assert new and publish(index_dir, shared) == (snap, False)  # nothing changed: nothing published
    linked = [f for f in snap.iterdir() if f.is_file() and f.stat().st_nlink > 1]
    assert linked and all((index_dir / f.name).stat().st_ino == f.stat().st_ino for f in linked)
    before = {f.name: f.stat().st_mtime_ns for f in snap.rglob("*")}
    reader = SnapshotReader(engine, shared)
    assert reader.count() == 5 and reader.search(SearchQuery("van ban")).total >= 1
    with pytest.raises(PermissionError):
        reader.add(PUBLIC[5:6])
    with pytest.raises(PermissionError):
        open_index(engine, snap, read_only=True).delete(PUBLIC[0].id)
    assert {f.name: f.stat().st_mtime_ns for f in snap.rglob("*")} == before  # reading wrote nothing
    for doc in PUBLIC[5 : 5 + KEEP + 1]:
        writer.add([doc])
        publish(index_dir, shared)
    assert reader.count() == 5 + KEEP + 1 and reader.name == newest(shared)
    assert len(list(shared.glob("snap-*"))) == KEEP and not snap.exists()
    assert (shared / CURRENT).read_text() == reader.name
    reader.close()
    writer.close()
