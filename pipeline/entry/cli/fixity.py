"""`archive fixity check|report`: re-read stored objects against their recorded SHA-256, and what the audits
found. Exit 1 when a checked document (one the user may see) is damaged."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.entry.cli.common import out, print_json, session

fixity_app = typer.Typer(no_args_is_help=True, help="Fixity: re-read stored objects and compare their SHA-256.")


@fixity_app.command("check")
def check(ids: Annotated[list[str] | None, typer.Argument(metavar="[ID...]",
                                                        help="Documents to check (default: the next batch, "
                                                             "oldest-checked first).")] = None,
          batch: Annotated[int | None, typer.Option("--batch", min=1,
                                                    help="Documents in this run (default: fixity.batch).")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False) -> None:
    """Re-read every stored object of the documents (originals, page texts, archive.pdf; metadata.json against
    its seal) and compare them with the recorded checksums. Records the checks; a damaged document is audited,
    counted in the metrics and named by `archive fixity report`. With a replica both copies are compared and a
    damaged one is repaired from the intact one (reported, audited; exit 0 once repaired)."""
    from pipeline.app import fixity

    with session() as (ctx, actor):
        run = fixity.check(ctx, actor, ids or None, batch)
    if as_json:
        print_json(run.to_dict())
    else:
        table = Table("id", "result", "problems", title=f"{len(run.results)} document(s) checked, "
                                                         f"{len(run.failed)} damaged")
        for r in run.results:
            state = ("[yellow]REPAIRED[/]" if r.repaired else "[green]intact[/]") if r.ok else "[red]DAMAGED[/]"
            table.add_row(r.id[:12], state + (" (destroyed)" if r.disposed else ""),
                          escape("\n".join(r.problems + r.repaired)))
        out.print(table)
    repaired = [r for r in run.results if r.repaired]
    if repaired:  # damage found on one copy and repaired from the other (audited): said, not a failure
        sys.stderr.write(f"archive: fixity: {len(repaired)} document(s) damaged on one copy and repaired from the "
                         f"other: {', '.join(r.id[:12] for r in repaired)}\n")
    if run.failed:
        sys.stderr.write(f"archive: fixity check failed for {len(run.failed)} document(s): "
                         f"{', '.join(r.id[:12] for r in run.failed)}\n")
        raise typer.Exit(1)


@fixity_app.command("report")
def report(days: Annotated[int | None, typer.Option("--days", min=1, help="\"Checked recently\": within this "
                                                    "many days (default: fixity.report_days).")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Coverage of the fixity audits (checked recently, never checked, the oldest check) and every document
    whose last check failed, with its problems (documents you may see)."""
    from pipeline.app import fixity

    with session() as (ctx, actor):
        found = fixity.report(ctx, actor, days)
    if as_json:
        print_json(found.to_dict())
        return
    out.print(f"{found.documents} document(s): {found.recent} checked in the last {found.days} day(s), "
              f"{found.never} never checked")
    if found.oldest is not None:
        out.print(f"oldest check: {found.oldest.doc_id[:12]} at {found.oldest.checked_at:%Y-%m-%d %H:%M} UTC")
    if not found.failing:
        out.print("no document failed its last check")
        return
    table = Table("id", "number", "title", "checked", "problems",
                  title=f"{len(found.failing)} document(s) failed their last check")
    for row in found.failing:
        table.add_row(row.doc_id[:12], escape(row.doc_number), escape(row.title), f"{row.checked_at:%Y-%m-%d %H:%M}",
                      escape("\n".join(row.problems)))
    out.print(table)
