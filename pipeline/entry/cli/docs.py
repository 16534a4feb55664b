"""`archive show`, `get` and `verify`: reads, each within the acting user's clearance."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.core.record import DocumentRecord, rescan_pages
from pipeline.entry.cli.common import out, print_json, session


class Representation(StrEnum):
    preservation = "preservation"
    original = "original"


ID_ARG = typer.Argument(metavar="ID", help="Document id or a unique prefix of it (at least 6 characters).")


def show(doc_id: Annotated[str, ID_ARG],
         as_json: Annotated[bool, typer.Option("--json", help="Print the record and page texts as JSON.")] = False,
         ) -> None:
    """Show a document: metadata, origin, checksums, page texts."""
    from pipeline.app import documents

    with session() as (ctx, actor):
        view = documents.show(ctx, actor, doc_id)
    if as_json:
        print_json(view.to_dict())
        return
    record, texts = view.record, view.page_texts
    meta = record.metadata
    table = Table(show_header=False, title=f"Document {record.id}")
    rows = [("number", meta.doc_number), ("type", meta.doc_type), ("title", meta.title),
            ("issuer", meta.issuer), ("issued", str(meta.issued_date or "")), ("signer", meta.signer),
            ("unit", meta.unit), ("classification", meta.classification.label_vi),
            ("origin", record.origin.value), ("OCR", "yes" if record.ocr_applied else "no (own text)"),
            ("pages", str(record.page_count)), ("PDF/A", record.pdfa or "no"),
            ("archival copy", record.representation),
            ("why", f"{record.representation_note.vi}\n{record.representation_note.en}".strip()),
            ("changes", "; ".join(record.representation_note.changes)),
            ("dossier", record.metadata.export_name() or record.metadata.dossier_code),
            ("retention", f"{record.retention.class_code} {record.retention.class_name}: "
                          + ("permanent" if record.retention.permanent else
                             f"until {record.retain_until or '(dossier still open)'}, then {record.retention.action}")
             if record.retention.class_code else ""),
            ("signed", f"{record.signature.level} by {record.signature.signer_subject} at "
                       f"{record.signature.signed_at}" if record.signature.signed else "no"),
            ("source", f"{record.source.batch}/{record.source.path}" + _picked(record)),
            ("archived", str(record.archived_at))]
    if record.disposal is not None:
        gone = record.disposal
        rows.append(("DESTROYED", f"{gone.executed_at:%Y-%m-%d %H:%M} UTC by {gone.executed_by} under {gone.proposal}"
                                  f" ({gone.decision}; council: {gone.council}): only this record remains"))
    for key, value in rows:
        table.add_row(key, escape(value))
    out.print(table)
    rescan = rescan_lines(record)
    if rescan:  # the quality gate's verdict, before the archivist scrolls past it
        out.print(f"[bold yellow]{escape(rescan[0])}[/]")
        for line in rescan[1:]:
            out.print(escape(line))
    checks = Table("object", "sha256", "bytes", title="Checksums")
    for artefact in record.artefacts.values():
        checks.add_row(escape(artefact.key), artefact.sha256, str(artefact.size))
    out.print(checks)
    for page in record.pages:
        conf = f", OCR confidence {page.confidence:.0f}" if page.confidence is not None else ""
        share = f", Vietnamese syllables {page.syllable_share:.0%}" if page.syllable_share is not None else ""
        flag = ", [yellow]RE-SCAN[/]" if page.rescan else ""
        out.print(f"[bold]--- page {page.number}{conf}{share}{flag} ---[/]")
        out.print(escape(texts[page.number - 1] if page.number <= len(texts) else ""))


def _span(pages: list[int]) -> str:
    """1-based pages as runs: ``2-3, 5``."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _picked(record: DocumentRecord) -> str:
    """Which pages of its input the document is (a stream's document, blank pages dropped)."""
    said = []
    if record.source.separator_page is not None:
        said.append(f"after the separator sheet on page {record.source.separator_page}")
    if record.source.pages:
        said.append(f"pages {_span(record.source.pages)} of the input")
    if record.source.blank_pages:
        said.append(f"blank pages dropped: {_span(record.source.blank_pages)}")
    return f" ({'; '.join(said)})" if said else ""


def rescan_lines(record: DocumentRecord) -> list[str]:
    """The pages to scan again as `archive show` lists them: a heading, then one line a page; [] when none."""
    pages = rescan_pages(record)
    if not pages:
        return []
    total = record.page_count
    return [f"Re-scan {len(pages)} of {total} pages / Cần quét lại {len(pages)} trên {total} trang:",
            *(f"  page {page.number}: {page.rescan}" for page in pages)]


def get(doc_id: Annotated[str, ID_ARG],
        output: Annotated[Path, typer.Option("--output", "-o", help="Where to write it (a folder for an "
                                                                    "original of several page images).")],
        representation: Annotated[Representation, typer.Option(
            "--representation", "-r", case_sensitive=False,
            help="preservation: the archival copy (signed PDF/A, or the signed original when no PDF/A could be "
                 "made); original: as received.")
        ] = Representation.preservation,
        force: Annotated[bool, typer.Option("--force", help="Overwrite OUTPUT if it exists.")] = False) -> None:
    """Download a document: its archival copy (default) or its original as received."""
    from pipeline.app import documents

    with session() as (ctx, actor):
        record, paths = documents.download(ctx, actor, doc_id, output, force, representation.value)
    for path in paths:
        out.print(f"Wrote {escape(str(path))} ({path.stat().st_size} bytes)")
    if representation is Representation.preservation and record.representation != "pdfa":
        out.print(escape(record.representation_note.en or record.representation))


EXIT_INDETERMINATE = 4  # `archive verify`: the signer's revocation status could not be established


def verify(target: Annotated[str, typer.Argument(metavar="FILE_OR_ID", help="A signed PDF file or a document id.")],
           as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Verify a signed PDF (file) or an archived document (id): signature, trust, revocation, PDF/A, checksum.

    Exit 0 valid; 1 invalid; 4 indeterminate: nothing is wrong, but whether the signer certificate was
    revoked could not be checked (responders unreachable, no embedded revocation data): not valid.
    """
    from pipeline.app.verification import verdict, verify_target

    with session() as (ctx, actor):
        report = verify_target(ctx, actor, target)
    outcome = report.get("status") or verdict(report)
    if as_json:
        print_json(report)
    else:
        states = {"valid": "[green]VALID[/]", "indeterminate": "[yellow]INDETERMINATE[/]",
                  "disposed": "[yellow]DISPOSED[/] (residual record intact)"}
        state = states.get(outcome, "[red]INVALID[/]")
        out.print(f"{state}  {escape(target)}")
        for key in ("level", "signer", "signed_at", "trusted", "trust_anchor", "intact", "covers_whole_document",
                    "timestamp_valid", "timestamp_at", "ltv", "revocation", "pdfa", "checksum", "seal", "artefacts"):
            if key in report:
                out.print(f"  {key:10} {escape(str(report[key]))}")
        if "disposed" in report:
            facts = report["disposed"]
            out.print(f"  destroyed  {escape(str(facts['executed_at']))} under {escape(facts['proposal'])} "
                      f"({escape(facts['decision'])})")
        for problem in report.get("problems", []):
            out.print(f"  [red]problem[/]    {escape(problem)}")
    if outcome == "indeterminate":
        if not as_json:
            sys.stderr.write("archive: verification indeterminate: cannot check whether the signer certificate is "
                             "revoked (OCSP/CRL unreachable, no revocation data in the file); not valid until "
                             "checked with the responders reachable\n")
        raise typer.Exit(EXIT_INDETERMINATE)
    if not report["valid"]:
        if not as_json:
            sys.stderr.write(f"archive: verification failed: {'; '.join(report.get('problems', [])) or 'invalid'}\n")
        raise typer.Exit(1)



def edit(doc_id: Annotated[str, ID_ARG],
         changes: Annotated[list[str], typer.Option("--set", metavar="FIELD=VALUE", help=(
             "A corrected value (repeat for several; an empty value clears it). Fields: doc_number, doc_type, "
             "title, issuer, issued_date, signer, unit, language, archive_code, access_regime, reliability, "
             "autograph, physical_condition, keywords, notes."))],
         reason: Annotated[str, typer.Option(help="Why (kept in the record and the audit trail).")],
         as_json: Annotated[bool, typer.Option("--json", help="Print the updated record as JSON.")] = False) -> None:
    """Correct a document's metadata: a new sealed version of its record (the signed PDF is unchanged)."""
    from pipeline.app.errors import Invalid
    from pipeline.app.metadata_edit import edit_metadata

    wanted: dict[str, str] = {}
    for item in changes:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise Invalid(f"--set {item!r}: expected FIELD=VALUE")
        wanted[name.strip()] = value
    with session() as (ctx, actor):
        record = edit_metadata(ctx, actor, doc_id, wanted, reason)
    if as_json:
        print_json(record.model_dump(mode="json"))
        return
    change = record.events[-1].detail.get("changes", {})
    for name, (old, new) in change.items():
        out.print(f"{name}: {escape(str(old or '—'))} → {escape(str(new or '—'))}")
    out.print(f"Document {record.id}: metadata changed and sealed")
