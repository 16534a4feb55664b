"""`archive batch list | status | resume`: follow batches from their journal and finish an interrupted one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.entry.cli.common import err, out, print_json, session

batch_app = typer.Typer(help="Batches: list them, see every document's state, resume an interrupted one.",
                        no_args_is_help=True)
COLOURS = {"archived": "green", "duplicate": "cyan", "skipped": "yellow", "quarantined": "red"}


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else ""


@batch_app.command("list")
def list_batches(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many batches, newest first.")] = 50,
) -> None:
    """Recent batches with their counts (yours; every batch for an administrator)."""
    from pipeline.app.batch_resume import recent_batches

    with session() as (ctx, actor):
        rows = recent_batches(ctx, actor, limit)
    if as_json:
        print_json(rows)
        return
    table = Table(title="Batches")
    table.add_column("batch", no_wrap=True)  # the id to pass to `status` and `resume`: never folded
    for column in ("name", "by", "state", "started", "documents", "archived", "duplicate", "quarantined",
                   "failed", "pending"):
        table.add_column(column)
    for row in rows:
        s = row["summary"]
        table.add_row(row["batch_id"], escape(row["name"]), escape(row["actor"]), row["state"],
                      _when(row["started_at"]), str(row["total"]),
                      *(str(s[k]) for k in ("archived", "duplicate", "quarantined", "failed", "pending")))
    out.print(table)


@batch_app.command("status")
def status(
    batch_id: Annotated[str, typer.Argument(metavar="BATCH", help="The batch id (see `archive batch list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every document of a batch from its journal: state, stage, id and reason. Exits 1 while any is
    unfinished (planned, processing, pending or failed)."""
    from pipeline.app.batch_resume import batch_status

    with session() as (ctx, actor):
        found = batch_status(ctx, actor, batch_id)
    if as_json:
        print_json(found)
    else:
        table = Table(title=f"Batch {escape(found['name'])} ({batch_id}): {found['state']}")
        for column in ("document", "state", "stage", "id", "reason"):
            table.add_column(column)
        for doc in found["documents"]:
            colour = COLOURS.get(doc["state"], "magenta")
            table.add_row(escape(doc["source"]), f"[{colour}]{doc['state']}[/]", escape(doc["stage"] or ""),
                          (doc["doc_id"] or "")[:12], escape(doc["reason"] or ""))
        out.print(table)
        out.print("Summary: " + (", ".join(f"{v} {k}" for k, v in found["summary"].items() if v) or "empty"))
    if found["summary"]["failed"] or found["summary"]["pending"]:
        raise typer.Exit(1)


@batch_app.command("resume")
def resume(
    batch_id: Annotated[str, typer.Argument(metavar="BATCH", help="The batch id (see `archive batch list`).")],
    manifest: Annotated[Path | None, typer.Option(help="Manifest CSV (default: the batch folder's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report instead of progress.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Run the stages in this process, not on workers.")] = False,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for the workers before reporting the "
                                                     "unfinished documents as pending.")] = 6 * 3600,
) -> None:
    """Run again every document of BATCH that is not final (planned, processing, pending, failed), from the
    batch's folder, under the same batch id; archived documents are never archived twice. Exits 0 only when
    nothing of the batch is left unfinished."""
    from pipeline.app.batch_resume import resume_batch
    from pipeline.entry.cli.ingest import RichObserver, _print_summary

    executor = "local" if local else None
    with session() as (ctx, actor):
        if as_json:
            resumed = resume_batch(ctx, actor, batch_id, manifest, executor, timeout_s=wait)
            print_json(resumed.to_dict())
        else:
            columns = [TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                       TextColumn("{task.fields[stage]}"), TimeElapsedColumn()]
            with Progress(*columns, console=err, transient=False) as progress:
                resumed = resume_batch(ctx, actor, batch_id, manifest, executor, RichObserver(progress), wait)
            if resumed.report.documents:
                _print_summary(resumed.report)
    if resumed.unfinished:
        sys.stderr.write(f"archive: {resumed.unfinished} document(s) of batch {batch_id} still unfinished: "
                         "see `archive batch status` and resume again\n")
        raise typer.Exit(1)
    if not resumed.report.documents:
        sys.stderr.write(f"archive: batch {batch_id} has nothing left to resume\n")
