"""`archive quarantine list | retry`: the inputs set aside with a reason, and running one again after a fix.
`retry` exits 0 when the input was archived (or is a duplicate), 3 when it is still quarantined."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.entry.cli.common import EXIT_PARTIAL, out, print_json, session

quarantine_app = typer.Typer(no_args_is_help=True,
                             help="Quarantine: inputs set aside with their reason; retry one after a fix.")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@quarantine_app.command("list")
def list_entries(
    batch: Annotated[str | None, typer.Option("--batch", metavar="BATCH",
                                              help="Only this batch (its id or its name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries as JSON.")] = False,
) -> None:
    """Every quarantined input you may see (archivists): id, batch, source, stage, reason, time, size, and
    whether it was resolved since (retried and archived, or the same content archived later)."""
    from pipeline.app.quarantine import entries

    with session() as (ctx, actor):
        found = entries(ctx, actor, batch)
    if as_json:
        print_json([e.to_dict() for e in found])
        return
    table = Table(title=f"{len(found)} quarantined input(s), {sum(not e.resolved for e in found)} unresolved")
    table.add_column("id", no_wrap=True)  # the id to pass to `retry`: never folded
    for column in ("batch", "source", "stage", "reason", "time", "size", "resolved"):
        table.add_column(column)
    for e in found:
        resolved = f"[green]yes[/] {escape(e.resolution)}" + (f" → {e.doc_id[:12]}" if e.doc_id else "") \
            if e.resolved else "[red]no[/]"
        tries = f" ({len(e.attempts)} retr{'y' if len(e.attempts) == 1 else 'ies'})" if e.attempts else ""
        table.add_row(e.id, escape(e.batch), escape(e.source), escape(e.stage), escape(e.reason) + tries,
                      e.time[:16].replace("T", " "), _size(e.size) if e.stored else "not kept", resolved)
    out.print(table)


@quarantine_app.command("retry")
def retry(
    entry: Annotated[str, typer.Argument(metavar="ID", help="The entry id (see `archive quarantine list`).")],
    fixed: Annotated[Path | None, typer.Option("--file", metavar="FIXED", help=(
        "A corrected file (or folder of page images) to run instead of the kept bytes; the entry is linked "
        "to the document it becomes."))] = None,
    manifest: Annotated[Path | None, typer.Option("--manifest", metavar="CSV", help=(
        "A (corrected) manifest whose row for the input gives its metadata (default: the batch folder's)."))
                        ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Run a quarantined input through intake and the stages again, after a fix: its kept bytes (a tool or
    setting fixed), or a corrected file with --file. Archived: the entry is resolved and its batch journal
    updated. Still refused: it stays quarantined with the new reason added (exit 3)."""
    from pipeline.app.quarantine_retry import retry as run_retry

    with session() as (ctx, actor):
        result = run_retry(ctx, actor, entry, fixed, manifest)
    if as_json:
        print_json(result.to_dict())
    elif result.ok:
        out.print(f"{escape(result.source)}: [green]{result.status}[/] as {result.doc_id} "
                  f"(batch {result.batch_id}){': ' + escape(result.reason) if result.reason else ''}")
    else:
        out.print(f"{escape(result.source)}: [red]still quarantined[/]: {escape(result.reason)}")
    if not result.ok:
        sys.stderr.write(f"archive: quarantine entry {result.entry} is still quarantined: {result.reason}\n")
        raise typer.Exit(EXIT_PARTIAL)
