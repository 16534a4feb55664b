"""Many readers: one index writer publishes committed snapshots to a shared directory; any number of search
replicas open the newest read-only and move to a newer one when it appears.

A snapshot is a directory ``snap-<ns>`` beside a ``CURRENT`` file naming the newest. The engine's files are
hard-linked (tantivy and Whoosh never change a segment file once written, they add new ones and delete old
ones), so a snapshot costs the new segments only; the page store is copied whole with SQLite's backup API
and marked immutable (readers take no lock and write nothing). A snapshot is published under the writer's
lock, so it never holds half a commit. The newest ``KEEP`` snapshots stay: a replica that opened an older one
keeps its open files (unlinking does not close them) and moves on at its next search.

Where this stops: one writer (the lock serialises the workers of one machine; writers on several machines
would need the index on one of them), a full copy of the page store per publish (1.1 GB at 1M documents:
seconds of sequential I/O, so publish every minute or so rather than per document), and a disposed
document's text stays in the older snapshots until ``KEEP`` further publishes prune them. A larger
deployment would put OpenSearch behind the same ``SearchIndex`` interface.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from search.engine import IndexBase
from search.model import Hit, IndexDoc, SearchQuery, SearchResults
from search.store import FORMAT_FILE, LOCK_FILE, PAGES_FILE, write_lock

log = logging.getLogger("search.snapshots")
CURRENT = "CURRENT"
SOURCE = "published-from.txt"  # the fingerprint of the index directory a snapshot was made from
KEEP = 3
_SKIP = {LOCK_FILE, PAGES_FILE, PAGES_FILE + "-wal", PAGES_FILE + "-shm"}
_COPIED = {FORMAT_FILE, "meta.json", ".managed.json", ".tantivy-meta.lock"}


def publish(index_dir: Path, shared: Path) -> tuple[Path, bool]:
    """Publish ``index_dir`` as the newest snapshot in ``shared`` and prune old ones: (the snapshot, whether it
    is new). Nothing changed since the newest snapshot: that one, not new."""
    shared.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"snap-{time.time_ns()}"
    tmp = shared / f".{name}.tmp"
    with write_lock(index_dir):
        mark = _fingerprint(index_dir)
        last = newest(shared)
        if last and (shared / last / SOURCE).exists() and (shared / last / SOURCE).read_text() == mark:
            return shared / last, False
        tmp.mkdir(mode=0o700)
        (tmp / SOURCE).write_text(mark, encoding="utf-8")
        for src in index_dir.rglob("*"):
            rel = src.relative_to(index_dir)
            if rel.parts[0] in _SKIP or src.is_dir() or src.name == ".tantivy-writer.lock" or "WRITELOCK" in src.name:
                continue
            dst = tmp / rel
            dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if src.name in (FORMAT_FILE, "meta.json", ".managed.json", ".tantivy-meta.lock") or src.name.startswith(
                "_"
            ):
                shutil.copy2(src, dst)  # an engine's small table-of-contents files are copied, not linked
            else:
                _link_or_copy(src, dst)
        if (index_dir / PAGES_FILE).exists():
            _copy_pages(index_dir / PAGES_FILE, tmp / PAGES_FILE)
    os.rename(tmp, shared / name)
    current = shared / f".{CURRENT}.tmp"
    current.write_text(name, encoding="utf-8")
    os.replace(current, shared / CURRENT)
    _prune(shared, name)
    return shared / name, True


def _fingerprint(index_dir: Path) -> str:
    """What the index directory holds now (names, sizes, change times): equal means nothing to publish."""
    unstable = (LOCK_FILE, ".tantivy-writer.lock", PAGES_FILE + "-shm")  # touched by readers and lockers
    files = sorted(f for f in index_dir.rglob("*") if f.is_file() and f.name not in unstable)
    return "\n".join(f"{f.relative_to(index_dir)} {f.stat().st_size} {f.stat().st_mtime_ns}" for f in files)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system: a copy
        shutil.copy2(src, dst)


def _copy_pages(src: Path, dst: Path) -> None:
    """A consistent copy of the page store (the writer may be adding pages), journal off: read as immutable."""
    with sqlite3.connect(src, timeout=60) as source, sqlite3.connect(dst) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    source.close()
    target.close()


def _prune(shared: Path, newest: str) -> None:
    snaps = sorted((p for p in shared.glob("snap-*") if p.is_dir()), key=lambda p: int(p.name[5:]))
    for old in snaps[:-KEEP]:
        if old.name != newest:
            shutil.rmtree(old, ignore_errors=True)
    for stale in shared.glob(".snap-*.tmp"):  # a publisher killed mid-copy
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


def newest(shared: Path) -> str:
    """The name of the newest published snapshot ("" before the first)."""
    try:
        return (shared / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


class SnapshotReader:
    """A read-only ``SearchIndex`` over the newest snapshot in ``shared``, checked before every read (one small
    file read): a replica serves what the writer last published."""

    def __init__(self, engine: str, shared: Path):
        self.engine = engine
        self.shared = shared
        self.name = ""
        self._index: IndexBase | None = None

    def _current(self) -> IndexBase:
        name = newest(self.shared)
        if not name:
            raise FileNotFoundError(f"no search snapshot published in {self.shared} yet")
        if name != self.name or self._index is None:
            from search import open_index

            fresh = open_index(self.engine, self.shared / name, read_only=True)
            assert isinstance(fresh, IndexBase)
            old, self._index, self.name = self._index, fresh, name
            if old is not None:
                old.close()
            log.info("search replica now reads %s", name)
        return self._index

    def search(self, q: SearchQuery) -> SearchResults:
        return self._current().search(q)

    def suggest(self, prefix: str, clearance: str = "public") -> list[str]:
        return self._current().suggest(prefix, clearance)

    def more_like_this(self, doc_id: str, clearance: str = "public", limit: int = 10) -> list[Hit]:
        return self._current().more_like_this(doc_id, clearance, limit)

    def count(self) -> int:
        return self._current().count()

    def add(self, docs: Iterable[IndexDoc]) -> None:  # each refused by the read-only snapshot itself
        self._current().add(docs)

    def delete(self, doc_id: str) -> None:
        self._current().delete(doc_id)

    def rebuild(self, docs: Iterable[IndexDoc]) -> None:
        self._current().rebuild(docs)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
            self.name = ""
