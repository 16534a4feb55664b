"""`archive sign` (one file) and `archive renew` (document timestamps of archived B-LTA documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.entry.cli.common import CliError, out, print_json, session, settings


def sign(
    file: Annotated[Path, typer.Argument(help="PDF (ideally PDF/A) to sign with the agency certificate.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the signed PDF.")],
    level: Annotated[str | None, typer.Option(help="B-B, B-T, B-LT or B-LTA (default from config).")] = None,
    visible: Annotated[bool | None, typer.Option("--visible/--invisible", help="Decree 30 stamp on page 1.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUTPUT if it exists.")] = False,
) -> None:
    """Sign a single PDF (PAdES) with the configured agency key."""
    from pipeline.app.signing import sign_file

    if not file.is_file():
        raise CliError(f"no such file: {file}")
    if output.exists() and not force:
        raise CliError(f"{output} exists: give --force to overwrite it")
    info = sign_file(settings(), file, output, level, visible)
    out.print(f"Signed {output}: {info.level}, {escape(info.signer_subject)}, {info.signed_at.isoformat()}")


def renew(within_days: Annotated[int | None, typer.Option(help="Renew when expiry is nearer than this.")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Add fresh document timestamps to B-LTA documents nearing expiry (new object versions)."""
    from pipeline.app.renewal import renew_timestamps

    with session() as (ctx, actor):
        report = renew_timestamps(ctx, actor, within_days)
    if as_json:
        print_json(report.to_dict())
    else:
        out.print(f"Checked {report.checked} B-LTA document(s), renewed {len(report.renewed)}, "
                  f"failed {len(report.failed)}")
        for doc_id, reason in report.failed.items():
            out.print(f"[red]failed[/] {doc_id[:12]}: {escape(reason)}")
    if report.failed:
        raise typer.Exit(1)
