"""`archive replicas check|sync`: the second copy of the archive on another S3 endpoint (``[replica]``). Exit 1 when
something is still damaged, missing or not copied."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.entry.cli.common import out, print_json, session

replicas_app = typer.Typer(no_args_is_help=True,
                           help="The second copy: compare the archive with its replica, copy and repair.")


@replicas_app.command("check")
def check(ids: Annotated[list[str] | None, typer.Argument(metavar="[ID...]",
                                                        help="Documents to compare (default: every object of the "
                                                             "bucket: documents, audit trail, holds, dossiers, "
                                                             "disposal records, quarantine).")] = None,
          repair: Annotated[bool, typer.Option("--repair/--no-repair",
                                               help="Copy what the replica lacks and rewrite a damaged side from the "
                                                    "good one (default), or only report.")] = True,
          as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False) -> None:
    """Re-read every current object on both sides and compare it with its recorded SHA-256 (metadata.json: its
    seal; audit segments: their event hashes; other objects: the primary's bytes). A damaged side gets a new
    version with the good bytes (WORM keeps the damaged one). Records office and administrators."""
    from pipeline.app import replica_runs

    with session() as (ctx, actor):
        report = replica_runs.check(ctx, actor, ids or None, repair)
    summary = report.to_dict()
    if as_json:
        print_json(summary)
    else:
        table = Table("document", "object", "result", "side", "problem",
                      title=f"{summary['objects']} object(s) compared: {summary['copied']} version(s) copied, "
                            f"{summary['repaired']} repaired, {summary['problems']} problem(s)")
        for group in report.groups:
            for f in group.findings:
                if f.status != "ok":
                    table.add_row(group.doc_id[:12] or "-", escape(f.key), f.status, f.side, escape(f.problem))
        out.print(table)
    if not report.ok:
        sys.stderr.write(f"archive: replicas differ: {len(report.problems)} problem(s) left "
                         f"({'not repairable' if repair else 'run without --no-repair to repair'})\n")
        raise typer.Exit(1)


@replicas_app.command("sync")
def sync(as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False) -> None:
    """Copy to the replica every object version it lacks (with its lock and legal hold), after an outage of the
    replica or when it is new; destroyed documents are destroyed there too. A version that fails its recorded
    SHA-256 on the primary is not copied (`archive replicas check` repairs it). Records office and administrators."""
    from pipeline.app import replica_runs

    with session() as (ctx, actor):
        report = replica_runs.sync(ctx, actor)
    if as_json:
        print_json(report.to_dict())
    else:
        out.print(f"{report.keys} object(s) on the primary: {report.copied} version(s) copied to the replica, "
                  f"{report.destroyed} destroyed there")
        for problem in report.problems:
            out.print(f"[red]not copied[/]: {escape(problem)}")
    if not report.ok:
        sys.stderr.write(f"archive: replica sync left {len(report.problems)} problem(s)\n")
        raise typer.Exit(1)
