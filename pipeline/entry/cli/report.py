"""`archive report`: the electronic-document statistics of `archive stats` as a report with charts, Vietnamese
labels by default, written to an HTML file (charts inline as SVG) or a PDF/A-2b signed with the agency
certificate (what the acting user may see)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.entry.cli.common import date_option, out


class Lang(StrEnum):
    vi = "vi"
    en = "en"


def report(
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE.pdf|FILE.html", help=(
        "Write the report here: .pdf (PDF/A-2b, signed with the agency certificate) or .html (one "
        "self-contained page, charts as SVG)."))],
    period: Annotated[str | None, typer.Option("--period", help=(
        "Received in this year (2026), quarter (2026-Q4) or month (2026-11); instead of --from/--to."))] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Received on or after this day (Vietnam time).")
                         ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Received on or before this day (Vietnam time).")
                       ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only this unit (diacritics and case ignored).")] = None,
    lang: Annotated[Lang, typer.Option("--lang", case_sensitive=False, help="Labels in Vietnamese or English."
                                       )] = Lang.vi,
) -> None:
    """A report of the electronic-document figures with charts (scanned vs born-digital share by month, documents
    by origin per unit, signed share, timeliness), against the targets, for what you may see."""
    from pipeline.app.report import ReportQuery, report_format, write_report
    from pipeline.entry.cli.common import session

    report_format(output)  # a wrong file name fails before anything is read
    query = ReportQuery(period=period, date_from=date_option(date_from, "--from"),
                        date_to=date_option(date_to, "--to"), unit=unit, lang=lang.value)
    with session() as (ctx, actor):
        written = write_report(ctx, actor, query, output)
    signed = f", PDF/A-{written['pdfa']}, signed {written['level']}" if written["format"] == "pdf" else ""
    out.print(f"Report written: {escape(str(output))} ({written['format']}{signed}; "
              f"{written['documents']} documents, clearance {written['clearance']}; sha256 {written['sha256']})")
