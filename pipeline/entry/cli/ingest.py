"""`archive ingest` (progress bars per document) and `archive worker`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.app.batches import NullObserver
from pipeline.entry.cli.common import EXIT_PARTIAL, CliError, err, out, print_json, session, settings


class RichObserver:
    """Progress bars: one overall bar and a line per document showing its current stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.overall: Any = None
        self.rows: dict[str, Any] = {}

    def planned(self, plan: Any) -> None:
        total = len(plan.documents) + len(plan.problems)
        self.overall = self.progress.add_task(f"batch {escape(plan.batch)}", total=total, stage="")

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

    def notice(self, message: str) -> None:
        """An outage being waited out, on the batch's line (cleared when it is over)."""
        self.progress.update(self.overall, stage=f"[yellow]{escape(message)}[/]" if message else "")


class NoticeLines(NullObserver):
    """With --json: no progress, but an outage being waited out is still said, one line each on stderr."""

    def notice(self, message: str) -> None:
        sys.stderr.write(f"archive: {message or 'service back, going on'}\n")
        sys.stderr.flush()


def ingest(
    batch_dir: Annotated[Path, typer.Argument(help="Batch folder: sub-folders of page images and PDF files.")],
    manifest: Annotated[Path | None, typer.Option(help="Manifest CSV (default: BATCH_DIR/manifest.csv).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report instead of progress.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Run the stages in this process, not on workers.")] = False,
    wait: Annotated[float, typer.Option(min=0, help="Seconds to wait for the workers before reporting the "
                                                     "unfinished documents as pending.")] = 6 * 3600,
    profile: Annotated[str, typer.Option(help="How this batch's scanned pages are stored: archival (lossless), "
                                              "standard or compact (default: scan.profile).")] = "",
) -> None:
    """Ingest a batch: OCR, PDF/A, sign, store, catalog and index every document."""
    from pipeline.app.batches import ingest_batch, require_intake_root

    executor = "local" if local else None
    with session() as (ctx, actor):
        if (executor or ctx.settings.executor) == "celery":  # before the progress bars: one line, no output
            require_intake_root(ctx.settings.intake_roots, batch_dir)
        if as_json:
            report = ingest_batch(ctx, actor, batch_dir, manifest, executor, NoticeLines(), wait, profile=profile)
            print_json(report.to_dict())
        else:
            columns = [TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                       TextColumn("{task.fields[stage]}"), TimeElapsedColumn()]
            with Progress(*columns, console=err, transient=False) as progress:
                report = ingest_batch(ctx, actor, batch_dir, manifest, executor, RichObserver(progress), wait,
                                      profile=profile)
            _print_summary(report)
    if report.empty:
        sys.stderr.write(f"archive: warning: batch folder {batch_dir} holds no documents\n")
    if report.unfinished:
        sys.stderr.write(f"archive: {report.count('failed')} document(s) failed (input left in the batch) and "
                         f"{report.count('pending')} still pending on the workers: run the ingest again\n")
        raise typer.Exit(1)
    if not report.ok:
        sys.stderr.write(f"archive: {report.not_archived} document(s) quarantined, "
                         f"{len(report.manifest_errors)} manifest error(s)\n")
        raise typer.Exit(EXIT_PARTIAL)


def _print_summary(report: Any) -> None:
    table = Table(title=f"Batch {escape(report.batch)} ({report.batch_id})")
    for column in ("document", "status", "id", "pages", "origin", "reason"):
        table.add_column(column)
    for d in report.documents:
        colour = {"archived": "green", "duplicate": "cyan", "skipped": "yellow"}.get(d.status, "red")
        said = "; ".join([escape(d.reason)] * bool(d.reason) + [f"[yellow]warning:[/] {escape(w)}" for w in d.warnings]
                         + [f"[magenta]re-scan:[/] {escape(r)}" for r in d.rescan])
        table.add_row(escape(d.source), f"[{colour}]{d.status}[/]", d.id[:12], str(d.pages or ""), d.origin, said)
    out.print(table)
    summary = ", ".join(f"{v} {k}" for k, v in report.to_dict()["summary"].items() if v)
    out.print(f"Summary: {summary or 'nothing to do'}")
    rescan = [d for d in report.documents if d.rescan]
    if rescan:
        out.print(f"[magenta]Re-scan / Cần quét lại:[/] {sum(len(d.rescan) for d in rescan)} page(s) in {len(rescan)} "
                  "document(s) (listed above; `archive show ID` for each)")
    if report.separators or report.blank_pages:
        out.print(f"Scanned streams: {report.separators} separator sheet(s) removed, {report.blank_pages} blank "
                  "page(s) dropped")
    if report.manifest:
        out.print(f"Manifest: {escape(report.manifest)}")
    for message in report.manifest_errors:
        out.print(f"[red]manifest:[/] {escape(message)}")


def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes (default: one per core).")] = 0,
    queues: Annotated[str, typer.Option(help="Queues to consume: ocr, index, renew.")] = "ocr,index,renew",
    beat: Annotated[bool, typer.Option("--beat", help="Also run the scheduler (daily timestamp renewal). "
                                                      "Run exactly one worker with --beat.")] = False,
    loglevel: Annotated[str, typer.Option(help="Celery log level: debug, info, warning, error.")] = "info",
) -> None:
    """Start a Celery worker (foreground)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from pipeline.entry import worker as tasks

    loaded = tasks.configure(settings())
    try:
        tasks.require_message_key(loaded)
    except RuntimeError as exc:
        raise CliError(str(exc)) from None
    argv = ["worker", f"--queues={queues}", f"--loglevel={loglevel}", "--pool=prefork",
            f"--hostname=archive-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        loaded.services_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--beat", f"--schedule={loaded.services_dir / 'celerybeat-schedule'}"]
    tasks.app.worker_main(argv)
