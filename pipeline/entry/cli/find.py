"""`archive search`, `archive reindex` and `archive publish-index`."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.entry.cli.common import CliError, date_option, origin_option, out, print_json, session

_MARK = re.compile(r"<b>(.*?)</b>", re.S)


def search(
    query: Annotated[str, typer.Argument(help="Words, a quoted phrase or a document number.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    doc_type: Annotated[str | None, typer.Option("--type", help="Only this document type (tên loại).")] = None,
    issuer: Annotated[str | None, typer.Option(help="Only this issuing body.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    origin: Annotated[str | None, typer.Option(help="scanned, born_digital or mixed")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Issued on or after this day.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Issued on or before this day.")] = None,
    signed: Annotated[bool | None, typer.Option("--signed/--unsigned", help="Only signed or unsigned ones.")] = None,
    sort: Annotated[str, typer.Option(help="relevance or date")] = "relevance",
    page: Annotated[int, typer.Option(min=1, help="Result page.")] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=100, help="Hits per page.")] = 10,
) -> None:
    """Full-text search (Vietnamese with or without diacritics), within the acting user's clearance."""
    from pipeline.app import searching
    from pipeline.app.searching import SearchQuery

    if sort not in ("relevance", "date"):
        raise CliError(f"--sort {sort!r}: expected relevance or date")
    q = SearchQuery(text=query, doc_type=doc_type, issuer=issuer, unit=unit, origin=origin_option(origin),
                    signed=signed, date_from=date_option(date_from, "--from"), date_to=date_option(date_to, "--to"),
                    sort=sort, page=page, page_size=page_size)
    with session() as (ctx, actor):
        results = searching.search(ctx, actor, q)
        empty_index = results.total == 0 and searching.index_size(ctx) == 0
    if as_json:
        print_json(searching.results_dict(query, results))
        return
    if empty_index:
        out.print("The search index is empty: ingest a batch, or run `archive reindex` to rebuild it from storage.")
        return
    if not results.hits:
        if results.total:
            last = (results.total + page_size - 1) // page_size
            out.print(f"Page {page} is past the end: {results.total} document(s) match, {last} page(s).")
            return
        out.print(f"No documents match {query!r}." + (f" Did you mean {results.did_you_mean!r}?"
                                                     if results.did_you_mean else ""), markup=False)
        return
    note = " (also showing near matches)" if results.near_matches else ""
    out.print(f"{results.total} document(s) match {escape(repr(query))}{note}")
    first = (page - 1) * page_size
    for rank, hit in enumerate(results.hits, start=first + 1):
        number = f"[bold]{escape(hit.doc_number)}[/] " if hit.doc_number else ""
        out.print(f"{rank:>3}. {number}{escape(hit.title or '(untitled)')}  "
                  f"[dim]{hit.origin} · page {hit.page or '-'} · {hit.id[:12]}[/]")
        if hit.snippet:
            out.print("     " + _MARK.sub(lambda m: f"[reverse]{m.group(1)}[/]", escape(hit.snippet)))


def reindex(as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False) -> None:
    """Rebuild the catalog and the search index from storage alone."""
    from pipeline.app.indexing import rebuild

    with session() as (ctx, actor):
        report = rebuild(ctx, actor)
    if as_json:
        print_json(report.to_dict())
    else:
        out.print(f"Rebuilt from storage: {report.documents} document(s) in the catalog, {report.indexed} indexed, "
                  f"{report.audit_events} audit event(s), {report.users} user(s).")


def publish_index(as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot as JSON.")] = False) -> None:
    """Publish the search index now for the search replicas (search.snapshot_dir); the beat does it regularly."""
    from pipeline.app.search_snapshots import publish_index as publish

    with session() as (ctx, actor):
        published = publish(ctx, actor)
    if as_json:
        print_json(published.to_dict())
    elif published.new:
        out.print(f"Published the search index as {published.snapshot}.")
    else:
        out.print(f"Nothing new since {published.snapshot}: the replicas already read it.")
