"""Search for an actor: the actor's clearance goes inside the engine query (search never sees a wider one),
so secret documents affect no hits, totals, facets, snippets, suggestions or more-like-this answers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipeline.app import documents
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.core.actor import Actor
from search import Hit, SearchQuery, SearchResults

__all__ = ["SearchQuery", "hit_dict", "more_like_this", "results_dict", "search", "suggest"]


def search(ctx: Context, actor: Actor, query: SearchQuery) -> SearchResults:
    actor.require_reader("search the archive")
    if not query.text.strip():
        raise Invalid("give words, a quoted phrase or a document number to search for")
    query = replace(query, clearance=actor.clearance.value)
    index = ctx.open_index()
    try:
        return index.search(query)
    finally:
        index.close()


def index_size(ctx: Context) -> int:
    index = ctx.open_index()
    try:
        return index.count()
    finally:
        index.close()


def suggest(ctx: Context, actor: Actor, prefix: str) -> list[str]:
    actor.require_reader("search the archive")
    index = ctx.open_index()
    try:
        return index.suggest(prefix, clearance=actor.clearance.value)
    finally:
        index.close()


def more_like_this(ctx: Context, actor: Actor, ident: str, limit: int = 10) -> list[Hit]:
    doc_id = documents.resolve_id(ctx, actor, ident)  # an unseen document has no neighbours to ask about
    index = ctx.open_index()
    try:
        return index.more_like_this(doc_id, clearance=actor.clearance.value, limit=limit)
    finally:
        index.close()


def hit_dict(hit: Hit) -> dict[str, Any]:
    return {"id": hit.id, "doc_number": hit.doc_number, "title": hit.title,
            "origin": hit.origin, "page": hit.page, "snippet": hit.snippet}


def results_dict(text: str, results: SearchResults) -> dict[str, Any]:
    return {"query": text, "total": results.total, "near_matches": results.near_matches,
            "did_you_mean": results.did_you_mean, "facets": results.facets,
            "hits": [hit_dict(h) for h in results.hits]}
