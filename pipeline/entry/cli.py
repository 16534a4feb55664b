"""The `archive` command: a thin shell over the Python API (pipeline.app.batches, search, pipeline.archive, …).

Exit codes: 0 success; 1 error (one-line reason on stderr); 3 ingest finished but some documents were
quarantined or failed, or the manifest had bad rows.
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.core.settings import Settings, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Digitization and archival pipeline: ingest, OCR, sign, store, search.")

out = Console()
err = Console(stderr=True)
EXIT_PARTIAL = 3


class CliError(Exception):
    """A failure to report as one line on stderr."""


def _settings() -> Settings:
    return load_settings()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# ---- worker -------------------------------------------------------------------------------------------
@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes (default: one per core).")] = 0,
    queues: Annotated[str, typer.Option(help="Queues to consume: ocr, index.")] = "ocr,index",
    loglevel: Annotated[str, typer.Option()] = "info",
) -> None:
    """Start a Celery worker (foreground)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from pipeline.entry import worker as tasks

    settings = tasks.configure(_settings())
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    argv = ["worker", f"--queues={queues}", f"--loglevel={loglevel}", "--pool=prefork",
            f"--hostname=archive-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    tasks.app.worker_main(argv)


# ---- ingest -------------------------------------------------------------------------------------------
class RichObserver:
    """Progress bars: one overall bar and a line per document showing its current stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.overall: Any = None
        self.rows: dict[str, Any] = {}

    def planned(self, plan: Any) -> None:
        total = len(plan.documents) + len(plan.problems)
        self.overall = self.progress.add_task(f"batch {plan.batch}", total=total, stage="")

    def _row(self, source: str) -> Any:
        if source not in self.rows:
            self.rows[source] = self.progress.add_task(f"  {escape(source)}", total=1, stage="queued")
        return self.rows[source]

    def stage(self, source: str, stage: str) -> None:
        self.progress.update(self._row(source), stage=stage)

    def done(self, outcome: Any) -> None:
        colour = {"archived": "green", "duplicate": "cyan"}.get(outcome.status, "red")
        self.progress.update(self._row(outcome.source), completed=1, stage=f"[{colour}]{outcome.status}[/]")
        self.progress.advance(self.overall)


@app.command()
def ingest(
    batch_dir: Annotated[Path, typer.Argument(help="Batch folder: sub-folders of page images and PDF files.")],
    manifest: Annotated[Path | None, typer.Option(help="Manifest CSV (default: BATCH_DIR/manifest.csv).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report instead of progress.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Run the stages in this process, not on workers.")] = False,
) -> None:
    """Ingest a batch: OCR, PDF/A, sign, store and index every document."""
    from pipeline.app.batches import ingest_batch

    settings = _settings()
    executor = "local" if local else None
    if as_json:
        report = ingest_batch(settings, batch_dir, manifest, executor)
        _print_json(report.to_dict())
    else:
        columns = [TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                   TextColumn("{task.fields[stage]}"), TimeElapsedColumn()]
        with Progress(*columns, console=err, transient=False) as progress:
            report = ingest_batch(settings, batch_dir, manifest, executor, RichObserver(progress))
        _print_ingest_summary(report)
    if not report.ok:
        bad = report.count("quarantined") + report.count("failed") + report.count("pending")
        sys.stderr.write(f"archive: {bad} document(s) not archived, "
                         f"{len(report.manifest_errors)} manifest error(s)\n")
        raise typer.Exit(EXIT_PARTIAL)


def _print_ingest_summary(report: Any) -> None:
    table = Table(title=f"Batch {report.batch}")
    for column in ("document", "status", "id", "pages", "origin", "reason"):
        table.add_column(column)
    for d in report.documents:
        colour = {"archived": "green", "duplicate": "cyan"}.get(d.status, "red")
        table.add_row(escape(d.source), f"[{colour}]{d.status}[/]", d.id[:12], str(d.pages or ""), d.origin,
                      escape(d.reason))
    out.print(table)
    summary = ", ".join(f"{v} {k}" for k, v in report.to_dict()["summary"].items())
    out.print(f"Summary: {summary}")
    for message in report.manifest_errors:
        out.print(f"[red]manifest:[/] {escape(message)}")


# ---- search -------------------------------------------------------------------------------------------
_MARK = re.compile(r"<b>(.*?)</b>", re.S)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words, a quoted phrase or a document number.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    clearance: Annotated[str, typer.Option(help="public, internal, mat, toi-mat, tuyet-mat")] = "public",
    doc_type: Annotated[str | None, typer.Option("--type")] = None,
    issuer: Annotated[str | None, typer.Option()] = None,
    unit: Annotated[str | None, typer.Option()] = None,
    origin: Annotated[str | None, typer.Option(help="scanned, born_digital or mixed")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
    signed: Annotated[bool | None, typer.Option("--signed/--unsigned")] = None,
    sort: Annotated[str, typer.Option(help="relevance or date")] = "relevance",
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """Full-text search (Vietnamese with or without diacritics)."""
    from pipeline.app.indexing import open_settings_index
    from pipeline.core.record import Classification
    from search import SearchQuery

    level = Classification.parse(clearance).value
    q = SearchQuery(text=query, clearance=level, doc_type=doc_type, issuer=issuer, unit=unit,
                    origin=_origin_option(origin), signed=signed, date_from=_date_option(date_from, "--from"),
                    date_to=_date_option(date_to, "--to"), sort=sort, page=page, page_size=page_size)
    index = open_settings_index(_settings())
    try:
        results = index.search(q)
    finally:
        index.close()
    if as_json:
        _print_json({
            "query": query, "total": results.total, "near_matches": results.near_matches,
            "did_you_mean": results.did_you_mean, "facets": results.facets,
            "hits": [{"id": h.id, "doc_number": h.doc_number, "title": h.title, "score": round(h.score, 4),
                      "origin": h.origin, "page": h.page, "snippet": h.snippet} for h in results.hits],
        })
        return
    if not results.hits:
        out.print(f"No documents match {query!r}." + (f" Did you mean {results.did_you_mean!r}?"
                                                     if results.did_you_mean else ""), markup=False)
        return
    note = " (also showing near matches)" if results.near_matches else ""
    out.print(f"{results.total} document(s) match {escape(repr(query))}{note}")
    first = (page - 1) * page_size
    for rank, hit in enumerate(results.hits, start=first + 1):
        number = f"[bold]{escape(hit.doc_number)}[/] " if hit.doc_number else ""
        out.print(f"{rank:>3}. {number}{escape(hit.title or '(untitled)')}  "
                  f"[dim]{hit.origin} · page {hit.page or '-'} · score {hit.score:.2f} · {hit.id[:12]}[/]")
        if hit.snippet:
            out.print("     " + _MARK.sub(lambda m: f"[reverse]{m.group(1)}[/]", escape(hit.snippet)))


def _date_option(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{name} {value!r} is not a date YYYY-MM-DD") from None


def _origin_option(value: str | None) -> str | None:
    if value is None:
        return None
    normalised = value.replace("-", "_").lower()
    if normalised not in {"scanned", "born_digital", "mixed"}:
        raise CliError(f"--origin {value!r}: expected scanned, born_digital or mixed")
    return normalised


@app.command()
def reindex() -> None:
    """Rebuild the search index from storage alone."""
    from pipeline.app.indexing import reindex as rebuild

    count = rebuild(_settings())
    out.print(f"Indexed {count} document(s) from storage.")


# ---- documents ----------------------------------------------------------------------------------------
def _store(settings: Settings) -> Any:
    from pipeline.archive import ArchiveStore

    return ArchiveStore(settings.s3)


def _resolve_id(store: Any, ident: str) -> str:
    ident = ident.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{6,64}", ident):
        raise CliError(f"{ident!r} is not a document id (hex, at least 6 characters)")
    if len(ident) == 64:
        if not store.has_document(ident):
            raise CliError(f"no archived document with id {ident}")
        return ident
    matches = [r.id for r in store.iter_records() if r.id.startswith(ident)]
    if not matches:
        raise CliError(f"no archived document with an id starting {ident}")
    if len(matches) > 1:
        raise CliError(f"id prefix {ident} is ambiguous ({len(matches)} documents): give more characters")
    return matches[0]


@app.command()
def show(doc_id: Annotated[str, typer.Argument(metavar="ID")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a document: metadata, origin, checksums, page texts."""
    store = _store(_settings())
    record = store.get_record(_resolve_id(store, doc_id))
    texts = store.page_texts(record.id)
    if as_json:
        data = record.model_dump(mode="json")
        data["page_texts"] = texts
        _print_json(data)
        return
    meta = record.metadata
    table = Table(show_header=False, title=f"Document {record.id}")
    rows = [("number", meta.doc_number), ("type", meta.doc_type), ("title", meta.title),
            ("issuer", meta.issuer), ("issued", str(meta.issued_date or "")), ("signer", meta.signer),
            ("unit", meta.unit), ("classification", meta.classification.value),
            ("origin", record.origin.value), ("OCR", "yes" if record.ocr_applied else "no (own text)"),
            ("pages", str(record.page_count)), ("PDF/A", record.pdfa),
            ("signed", f"{record.signature.level} by {record.signature.signer_subject} at "
                       f"{record.signature.signed_at}" if record.signature.signed else "no"),
            ("source", f"{record.source.batch}/{record.source.path}"), ("archived", str(record.archived_at))]
    for key, value in rows:
        table.add_row(key, escape(value))
    out.print(table)
    checks = Table("object", "sha256", "bytes", title="Checksums")
    for artefact in record.artefacts.values():
        checks.add_row(escape(artefact.key), artefact.sha256, str(artefact.size))
    out.print(checks)
    for page in record.pages:
        conf = f", OCR confidence {page.confidence:.0f}" if page.confidence is not None else ""
        out.print(f"[bold]--- page {page.number}{conf} ---[/]")
        out.print(escape(texts[page.number - 1] if page.number <= len(texts) else ""))


@app.command()
def get(doc_id: Annotated[str, typer.Argument(metavar="ID")],
        output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the signed PDF/A.")]) -> None:
    """Download the archival copy (signed PDF/A) of a document."""
    store = _store(_settings())
    record = store.get_record(_resolve_id(store, doc_id))
    store.download(record.artefacts["archive.pdf"].key, output)
    out.print(f"Wrote {output} ({output.stat().st_size} bytes)")


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Documents and pages by origin, signed share, scanned share against the target."""
    from pipeline.app.stats import compute_stats

    data = compute_stats(_store(_settings()).iter_records())
    if as_json:
        _print_json(data)
        return
    table = Table("", "documents", "pages", title="Archive statistics")
    for origin in ("scanned", "born_digital", "mixed", "total"):
        table.add_row(origin, str(data["documents"][origin]), str(data["pages"][origin]))
    out.print(table)
    verdict = "[green]meets[/]" if data["scanned_share_ok"] else "[red]misses[/]"
    out.print(f"Scanned share {data['scanned_share']:.1%} ({verdict} the < {data['scanned_share_target']:.0%} "
              f"target); signed share {data['signed']['share']:.1%}")


@app.command()
def verify(target: Annotated[str, typer.Argument(metavar="FILE_OR_ID")],
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Verify a signed PDF (file) or an archived document (id): signature, trust, PDF/A, checksum."""
    from pipeline.app.verification import verify_target

    settings = _settings()
    report = verify_target(settings, target, resolve=lambda s, i: _resolve_id(s, i))
    if as_json:
        _print_json(report)
    else:
        state = "[green]VALID[/]" if report["valid"] else "[red]INVALID[/]"
        out.print(f"{state}  {escape(target)}")
        for key in ("level", "signer", "signed_at", "trusted", "trust_anchor", "intact", "covers_whole_document",
                    "timestamp_valid", "timestamp_at", "ltv", "revocation", "pdfa", "checksum"):
            if key in report:
                out.print(f"  {key:10} {escape(str(report[key]))}")
        for problem in report.get("problems", []):
            out.print(f"  [red]problem[/]    {escape(problem)}")
    if not report["valid"]:
        if not as_json:
            sys.stderr.write(f"archive: verification failed: {'; '.join(report.get('problems', [])) or 'invalid'}\n")
        raise typer.Exit(1)


@app.command("sign")
def sign_cmd(
    file: Annotated[Path, typer.Argument(help="PDF (ideally PDF/A) to sign with the agency certificate.")],
    output: Annotated[Path, typer.Option("--output", "-o")],
    level: Annotated[str | None, typer.Option(help="B-B, B-T, B-LT or B-LTA (default from config).")] = None,
    visible: Annotated[bool | None, typer.Option("--visible/--invisible", help="Decree 30 stamp.")] = None,
) -> None:
    """Sign a single PDF (PAdES) with the configured agency key."""
    import dataclasses

    from pipeline.app.signing import sign_policy, signer_config
    from pipeline.core.record import Origin
    from pipeline.sign import sign_pdf

    if not file.is_file():
        raise CliError(f"no such file: {file}")
    settings = _settings()
    policy = sign_policy(settings, Origin.BORN_DIGITAL, level)
    if visible is not None:
        policy = dataclasses.replace(policy, visible=visible)
    info = sign_pdf(file, output, signer_config(settings), policy)
    out.print(f"Signed {output}: {info.level}, {escape(info.signer_subject)}, {info.signed_at.isoformat()}")


@app.command()
def renew(within_days: Annotated[int | None, typer.Option(help="Renew when expiry is nearer than this.")] = None,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Add fresh document timestamps to B-LTA documents nearing expiry (new object versions)."""
    from pipeline.app.renewal import renew_timestamps

    report = renew_timestamps(_settings(), within_days)
    data = {"checked": report.checked, "renewed": report.renewed, "failed": report.failed}
    if as_json:
        _print_json(data)
    else:
        out.print(f"Checked {report.checked} B-LTA document(s), renewed {len(report.renewed)}, "
                  f"failed {len(report.failed)}")
        for doc_id, reason in report.failed.items():
            out.print(f"[red]failed[/] {doc_id[:12]}: {escape(reason)}")
    if report.failed:
        raise typer.Exit(1)


def _load_plugins() -> None:
    """Command groups shipped by other packages (entry points ``archive.cli``), e.g. the development tools'
    `services`, `cert init-test` and `sample`: production code never imports them."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="archive.cli"):
        ep.load()(app)


def main() -> None:
    """Entry point: one-line errors on stderr, non-zero exit codes."""
    try:
        _load_plugins()
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("archive: aborted", markup=False)
        sys.exit(130)
    except Exception as exc:  # every failure gets one readable line, not a traceback
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.stderr.write(f"archive: error: {message}\n")
        if os.environ.get("ARCHIVE_DEBUG"):
            raise
        sys.exit(1)


if __name__ == "__main__":
    main()
