"""Vietnamese full-text search over the archive, behind one engine-neutral API.

Callers (orchestrator, CLI, REST) use only this module: ``open_index`` then ``add`` / ``delete`` /
``search`` / ``suggest`` / ``more_like_this`` / ``rebuild``. Engine types never leave the package, so a
distributed backend can be added later. Snippets are HTML-escaped with matches marked ``<b>…</b>``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from search.engine import Backend, IndexBase, SearchIndex
from search.model import (
    CLASSIFICATIONS,
    FACETS,
    FIELDS,
    Hit,
    IndexDoc,
    IndexLockedError,
    SearchError,
    SearchQuery,
    SearchResults,
    StaleIndexError,
    clearance_rank,
)
from search.store import FORMAT_VERSION

ENGINES = ("tantivy", "whoosh")
DEFAULT_ENGINE = "tantivy"

__all__ = [
    "CLASSIFICATIONS",
    "DEFAULT_ENGINE",
    "ENGINES",
    "FACETS",
    "FIELDS",
    "FORMAT_VERSION",
    "Hit",
    "IndexDoc",
    "IndexLockedError",
    "SearchError",
    "SearchIndex",
    "SearchQuery",
    "SearchResults",
    "StaleIndexError",
    "clearance_rank",
    "open_index",
]


def open_index(
    engine: str,
    index_dir: Path,
    page_texts: Callable[[str], list[str]] | None = None,
    with_pairs: bool = True,
    read_only: bool = False,
) -> SearchIndex:
    """Open (or create) the index in ``index_dir``.

    ``page_texts(doc_id)`` supplies page texts for snippets from archive storage; when omitted the
    index keeps its own page store (``pages.sqlite``) next to the engine files. An index of another
    format version or engine raises ``StaleIndexError`` on first use; ``rebuild()`` still works on it.
    ``with_pairs`` (a new index, or a rebuild): index word pairs, so phrases are term lookups (the benchmark
    compares both). ``read_only``: a published snapshot (:mod:`search.snapshots`), never locked or written.
    """
    backend: Backend
    if engine == "tantivy":
        from search.tantivy_engine import TantivyBackend

        backend = TantivyBackend(Path(index_dir))
    elif engine == "whoosh":
        from search.whoosh_engine import WhooshBackend

        backend = WhooshBackend(Path(index_dir))
    else:
        raise ValueError(f"unknown search engine {engine!r}; expected one of {', '.join(ENGINES)}")
    return IndexBase(backend, Path(index_dir), page_texts, with_pairs, read_only)
