"""The search page (``/`` and ``/search``): a search box, hits with their highlighted snippets and the page of
the best match (a link to the document at that page), facets as filter links with counts, filters and
pagination. It calls :func:`pipeline.app.searching.search`, which puts the caller's clearance inside the engine
query: a document above it affects no hit, total, facet or snippet."""

from __future__ import annotations

import html
import math
import re
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from pipeline.app import searching
from pipeline.app.searching import SearchQuery
from pipeline.entry.api.common import SearchBox, Short, context
from pipeline.entry.web.auth import PageCaller
from pipeline.entry.web.render import render
from pipeline.entry.web.routing import page_router

router = page_router()
PAGE_SIZE = 10
MAX_PAGE = 100  # 1000 hits deep: narrow the search rather than page further
FACETS = (("doc_type", "type"), ("issuer", "issuer"), ("unit", "unit"), ("origin", "origin"), ("year", "year"))
FACET_VALUES = 12  # the most frequent values shown per facet
_SAFE_SNIPPET = re.compile(r"(?:[^<>&]|&(?:amp|lt|gt|quot|#x27|#39|#34);|</?b>)*")


def snippet_markup(snippet: str) -> str:
    """HTML for the engine's snippet, which the template inserts as is (``|safe``). The engine gives
    HTML-escaped text with ``<b>`` around matches: verified to be exactly that (nothing but text, entities and
    ``<b>``/``</b>``) before it is used; anything else is escaped whole."""
    if _SAFE_SNIPPET.fullmatch(snippet):
        return snippet
    return html.escape(snippet)


def _link(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    return "/search?" + urlencode({k: v for k, v in merged.items() if v not in (None, "", 1) or k == "q"})


def _facets(params: dict[str, Any], facets: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Per facet: its values with counts, each a link that sets (or, when set, clears) that filter."""
    shown = []
    for name, param in FACETS:
        values = sorted(facets.get(name, {}).items(), key=lambda kv: (-kv[1], str(kv[0])))[:FACET_VALUES]
        current = params.get(param)
        items = [{"value": str(value), "count": count, "on": str(value) == str(current or ""),
                  "href": _link(params, **{param: None if str(value) == str(current or "") else value}, page=None)}
                 for value, count in values if str(value)]
        if items:
            shown.append({"name": name, "items": items})
    return shown


@router.get("/")
@router.get("/search")
def search_page(request: Request, who: PageCaller,
                q: Annotated[SearchBox | None, Query()] = None,
                doc_type: Annotated[Short | None, Query(alias="type")] = None,
                issuer: Annotated[Short | None, Query()] = None,
                unit: Annotated[Short | None, Query()] = None,
                origin: Annotated[Literal["scanned", "born_digital", "mixed", ""] | None, Query()] = None,
                year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
                page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1) -> Response:
    text = (q or "").strip()
    params: dict[str, Any] = {"q": text, "type": doc_type or None, "issuer": issuer or None, "unit": unit or None,
                              "origin": origin or None, "year": year}
    values: dict[str, Any] = {"q": text, "results": None, "hits": [], "facets": [], "pager": None,
                              "filtered": any(v for k, v in params.items() if k != "q"), "clear": _link({"q": text})}
    if text:
        query = SearchQuery(text=text, doc_type=doc_type or None, issuer=issuer or None, unit=unit or None,
                            origin=origin or None, date_from=date(year, 1, 1) if year else None,
                            date_to=date(year, 12, 31) if year else None, page=page, page_size=PAGE_SIZE)
        results = searching.search(context(request), who.actor, query)
        pages = max(1, math.ceil(results.total / PAGE_SIZE))
        values.update(
            results=results, facets=_facets(params, results.facets),
            hits=[{"hit": h, "snippet": snippet_markup(h.snippet),
                   "href": f"/documents/{h.id}?page={h.page or 1}"} for h in results.hits],
            did_you_mean=_link({"q": results.did_you_mean}) if results.did_you_mean else "",
            pager={"page": page, "pages": pages,
                   "prev": _link(params, page=page - 1) if page > 1 else "",
                   "next": _link(params, page=page + 1) if page < min(pages, MAX_PAGE) else ""})
    values.setdefault("did_you_mean", "")
    return render(request, "search.html", who=who, **values)
