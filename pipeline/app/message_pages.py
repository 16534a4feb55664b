"""The page selection of an ``archive.process_document`` message (a stream's k-th document, blank pages dropped:
pipeline.scan.streams), checked against the staged copies: which pages, and the content id they must give."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from pipeline.scan.items import content_id
from pipeline.scan.pages import selection_id

MAX_PART = 1_000_000  # documents of one stream; also the highest separator page


class SelectionRefused(ValueError):
    """The message's page selection is malformed or does not match the content (the worker refuses it)."""


def stream_part(data: dict[str, Any], source: str) -> tuple[str, int]:
    """(the input's path, k) of a stream's k-th document (``<input>#k``); (source, 0) for a whole input."""
    part = data.get("part", 0)
    if type(part) is not int or not 0 <= part <= MAX_PART:
        raise SelectionRefused(f"part: expected a whole number from 0 to {MAX_PART}")
    if not part:
        return source, 0
    base, hash_, number = source.rpartition("#")
    if not hash_ or number != str(part):
        raise SelectionRefused(f"source_path of document {part} of a stream must end with #{part}")
    return base, part


def _page_list(data: dict[str, Any], key: str, total: int, *, optional: bool) -> list[int] | None:
    """A list of distinct pages 0..total-1 in increasing order (None when ``optional`` and absent)."""
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, list) or len(value) > total \
            or not all(type(p) is int and 0 <= p < total for p in value) \
            or any(a >= b for a, b in itertools.pairwise(value)):
        raise SelectionRefused(f"{key}: expected increasing page numbers from 0 to {total - 1}")
    return value


def page_selection(data: dict[str, Any], total: int, part: int, copies: list[Path]
                   ) -> tuple[list[int] | None, list[int], str]:
    """(pages, dropped, the content id they give) of the item's page selection, checked against the input."""
    pages = _page_list(data, "pages", total, optional=True)
    dropped = _page_list(data, "dropped", total, optional=True) or []
    if pages is not None and not pages:
        raise SelectionRefused("pages: a document has at least one page")
    if set(dropped) & set(pages if pages is not None else range(total)):
        raise SelectionRefused("dropped: a page is both kept and dropped")
    whole = content_id(copies)
    selection = sorted(set(pages if pages is not None else range(total)) | set(dropped))
    if part and selection != list(range(total)):
        return pages, dropped, selection_id(whole, selection)
    if not part and pages is not None and selection != list(range(total)):
        raise SelectionRefused("pages: a whole input's pages and dropped pages must cover it")
    return pages, dropped, whole
