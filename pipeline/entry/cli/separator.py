"""`archive separator`: print the separator sheet put before a document in a scanned page stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.entry.cli.common import out, print_json, session


def separator(
    doc_number: Annotated[str, typer.Option("--doc-number", metavar="N", help=(
        "The document's number and symbol (số, ký hiệu), e.g. 45/2020/QĐ-UBND."))],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE.pdf", help=(
        "Write the sheet here (one A4 page to print)."))],
    title: Annotated[str, typer.Option("--title", metavar="T", help="Its title (trích yếu).")] = "",
    doc_type: Annotated[str, typer.Option("--type", metavar="T", help=(
        "Its type (loại văn bản), e.g. Quyết định."))] = "",
    unit: Annotated[str, typer.Option("--unit", metavar="U", help="The unit it belongs to (đơn vị).")] = "",
    classification: Annotated[str, typer.Option("--classification", metavar="C", help=(
        "public, internal, mat, toi-mat or tuyet-mat (or Mật, Tối mật, Tuyệt mật)."))] = "",
    dossier: Annotated[str, typer.Option("--dossier", metavar="CODE", help=(
        "The dossier (Mã hồ sơ) it belongs to, e.g. G01.2010.05; with --order."))] = "",
    order: Annotated[int | None, typer.Option("--order", metavar="K", help=(
        "Its order in the dossier (số thứ tự văn bản trong hồ sơ); with --dossier."))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Print a separator sheet (tờ phân cách): put it before the document's first page in a scanned stream;
    intake splits the stream there and takes the metadata from its QR code (it overrides the manifest's)."""
    from pipeline.app.separators import SheetRequest, print_sheet

    request = SheetRequest(doc_number=doc_number, title=title, doc_type=doc_type, unit=unit,
                           classification=classification, dossier_code=dossier, order_in_dossier=order)
    with session() as (ctx, actor):
        written = print_sheet(ctx, actor, request, output)
    if as_json:
        print_json(written)
        return
    out.print(f"Separator sheet written: {escape(str(output))} ({escape(doc_number)}; QR code "
              f"{written['qr_modules']}×{written['qr_modules']} modules, error correction {written['ec_level']})")
