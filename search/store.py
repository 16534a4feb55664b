"""Side files of an index directory: format version, writer lock, page store.

The engines keep no full text in stored fields; the page store (SQLite, one row per page) serves
snippets, best-page and more-like-this, and is rebuilt with the index.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from search.model import IndexLockedError, StaleIndexError

# Bump when analysis, field layout or schema change: older indexes must be rebuilt.
FORMAT_VERSION = 2  # 2: i/y spellings folded together, numbers' leading parts and digit repairs, word pairs
FORMAT_FILE = "search-format.json"
LOCK_FILE = ".write.lock"
PAGES_FILE = "pages.sqlite"
SIDE_FILES = {FORMAT_FILE, LOCK_FILE, PAGES_FILE, PAGES_FILE + "-wal", PAGES_FILE + "-shm"}


def has_pairs(index_dir: Path) -> bool:
    """Whether the index was written with its word-pair fields (``search.analysis.pairs``)."""
    fmt = index_dir / FORMAT_FILE
    return fmt.exists() and bool(json.loads(fmt.read_text(encoding="utf-8")).get("pairs"))


def check_format(index_dir: Path, engine: str) -> bool:
    """True if a fresh (empty) directory; raises StaleIndexError if the stored format differs."""
    fmt = index_dir / FORMAT_FILE
    if not fmt.exists():
        others = [p for p in index_dir.iterdir() if p.name not in SIDE_FILES] if index_dir.exists() else []
        if others:
            raise StaleIndexError(
                f"search index at {index_dir} has no format version (written by an older release); "
                "run `archive reindex`"
            )
        return True
    data = json.loads(fmt.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT_VERSION or data.get("engine") != engine:
        raise StaleIndexError(
            f"search index at {index_dir} is format {data.get('format')} ({data.get('engine')}), "
            f"this release reads format {FORMAT_VERSION} ({engine}); run `archive reindex`"
        )
    return False


def write_format(index_dir: Path, engine: str, pairs: bool) -> None:
    tmp = index_dir / (FORMAT_FILE + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT_VERSION, "engine": engine, "pairs": pairs}), encoding="utf-8")
    os.replace(tmp, index_dir / FORMAT_FILE)


@contextlib.contextmanager
def write_lock(index_dir: Path, timeout_s: float = 120.0, poll_s: float = 0.05) -> Iterator[None]:
    """Exclusive inter-process lock (flock) with retry: several workers may index at once."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexLockedError(
                        f"search index at {index_dir} is locked by another writer for more than {timeout_s}s"
                    ) from None
                time.sleep(poll_s)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class PageStore:
    """Page texts by document id (zlib-compressed), for snippets when storage is not at hand."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = path
        self.read_only = read_only  # a published snapshot (search.snapshots): immutable, no lock, no journal
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None and self.read_only:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        if self._db is None:
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA secure_delete=ON")  # a destroyed document's text is overwritten, not freed
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS pages (doc TEXT, no INTEGER, text BLOB, PRIMARY KEY (doc, no))"
            )
        return self._db

    def put_many(self, docs: Iterable[tuple[str, list[str]]]) -> None:
        with self.db:
            for doc_id, pages in docs:
                self.db.execute("DELETE FROM pages WHERE doc = ?", (doc_id,))
                self.db.executemany(
                    "INSERT INTO pages (doc, no, text) VALUES (?, ?, ?)",
                    [(doc_id, i, zlib.compress(t.encode("utf-8"), 6)) for i, t in enumerate(pages, 1)],
                )

    def delete(self, doc_id: str) -> None:
        """Remove a document's pages; with secure_delete and a truncating checkpoint, no copy of the text stays
        in the file's free pages or the write-ahead log (disposal destroys content)."""
        with self.db:
            self.db.execute("DELETE FROM pages WHERE doc = ?", (doc_id,))
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def get(self, doc_id: str) -> list[str]:
        rows = self.db.execute("SELECT text FROM pages WHERE doc = ? ORDER BY no", (doc_id,)).fetchall()
        return [zlib.decompress(r[0]).decode("utf-8") for r in rows]

    def wipe(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM pages")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
