"""`archive export bagit|eark …`: transfer packages of a dossier or of chosen documents (records officer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.entry.cli.common import out, print_json, session

export_app = typer.Typer(no_args_is_help=True,
                         help="Transfer packages (BagIt, E-ARK SIP) of a dossier or of chosen documents.")

Ids = Annotated[list[str] | None, typer.Argument(metavar="[ID]...", help="Document ids or unique prefixes.")]
DossierCode = Annotated[str, typer.Option("--dossier", metavar="CODE",
                                          help="Every document of this dossier (Mã hồ sơ) you may see.")]
Output = Annotated[Path, typer.Option("--output", "-o", metavar="DIR",
                                      help="A new (or empty) folder to write the package to.")]
Agency = Annotated[str, typer.Option("--agency", metavar="NAME",
                                     help="The transferring agency (default: sign.agency_name, else the "
                                          "organisation of the signing certificate).")]
Note = Annotated[str, typer.Option("--note", metavar="TEXT",
                                   help="The transfer note, e.g. the decision or delivery list it fulfils.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _export(kind: str, ids: list[str] | None, dossier: str, output: Path, agency: str, note: str,
            as_json: bool) -> None:
    from pipeline.app import transfer

    request = transfer.TransferRequest(ids=tuple(ids or ()), dossier=dossier, agency=agency, note=note)
    export = transfer.export_bagit if kind == "bagit" else transfer.export_eark
    with session() as (ctx, actor):
        result = export(ctx, actor, request, output)
    if as_json:
        print_json(result.to_dict())
        return
    what = "BagIt bag" if kind == "bagit" else "E-ARK SIP"
    out.print(f"{what} of {len(result.files)} document(s) from {escape(result.agency)} written to "
              f"{escape(str(result.output))} (transfer {result.id})")
    for f in result.files:
        out.print(f"  {escape(f['file'])}  {f['sha256'][:16]}…")


@export_app.command("bagit")
def bagit(output: Output, ids: Ids = None, dossier: DossierCode = "", agency: Agency = "", note: Note = "",
          as_json: AsJson = False) -> None:
    """A BagIt bag (RFC 8493): data/<Mã hồ sơ>.<STT>.pdf, metadata/*.json, SHA-256 manifests, bag-info."""
    _export("bagit", ids, dossier, output, agency, note, as_json)


@export_app.command("eark")
def eark(output: Output, ids: Ids = None, dossier: DossierCode = "", agency: Agency = "", note: Note = "",
         as_json: AsJson = False) -> None:
    """An E-ARK SIP (CSIP 2.1): METS.xml, PREMIS with fixity and events, representations/rep1/data."""
    _export("eark", ids, dossier, output, agency, note, as_json)
