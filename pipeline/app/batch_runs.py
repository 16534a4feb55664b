"""Uploaded batches ingested in the background of the API process: a bounded pool (``api.batch_workers``; the
rest wait their turn) runs :func:`ingest_batch` on each staged folder, an observer keeps each document's live
stage in memory, and the final states come from the catalog's batch journal (so a status survives a restart,
only the live stages and the queue do not). A batch is seen by its submitter and administrators; anyone else
is told it does not exist. A batch that ends with every document archived, duplicate, quarantined (its bytes
are kept in storage) or skipped has its staging folder removed; otherwise the folder stays and the status says
where."""

from __future__ import annotations

import logging
import shutil
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.app.batches import ingest_batch
from pipeline.app.context import Context
from pipeline.app.errors import NotFound
from pipeline.app.process import DocumentOutcome
from pipeline.app.uploads import StagedUpload
from pipeline.catalog.rows import BatchItemRow, BatchRow
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import DocState, Role
from pipeline.scan import BatchPlan

log = logging.getLogger("archive.upload")
KEEP_RUNS = 500  # finished runs remembered in memory (their journal stays in the catalog)
CLEAN = {DocState.ARCHIVED, DocState.DUPLICATE, DocState.QUARANTINED, DocState.SKIPPED}
SUMMARY = ("archived", "duplicate", "quarantined", "skipped", "failed", "pending")
WAITING = {DocState.PLANNED, DocState.PROCESSING, DocState.PENDING}  # counted as "pending" in a summary


@dataclass
class Run:
    """One uploaded batch as this process knows it."""

    staged: StagedUpload
    submitter: str
    state: str = "queued"  # queued → running → finished (then the catalog's journal decides)
    stages: dict[str, str] = field(default_factory=dict)  # source → live stage, while it runs
    manifest_errors: list[str] = field(default_factory=list)
    error: str = ""  # the batch could not run at all (one line)
    notice: str = ""  # an outage being waited out ("S3 server unreachable, retrying 3/8"), while it lasts
    kept_at: str | None = None


class _Observer:
    """Live stages of one run (called from the ingest thread; read by status requests)."""

    def __init__(self, run: Run, lock: threading.Lock) -> None:
        self.run, self.lock = run, lock

    def planned(self, plan: BatchPlan) -> None:
        with self.lock:
            self.run.manifest_errors = list(plan.manifest_errors)
            for item in plan.documents:
                self.run.stages[item.source_path] = "queued"

    def stage(self, source: str, stage: str) -> None:
        with self.lock:
            self.run.stages[source] = stage

    def done(self, outcome: DocumentOutcome) -> None:
        with self.lock:
            self.run.stages.pop(outcome.source, None)

    def notice(self, message: str) -> None:
        with self.lock:
            self.run.notice = message


class BatchRunner:
    """The pool and the runs of one Context (see :func:`runner_for`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.lock = threading.Lock()
        self.runs: OrderedDict[str, Run] = OrderedDict()
        self.pool = ThreadPoolExecutor(max_workers=ctx.settings.api.batch_workers, thread_name_prefix="batch")

    def submit(self, actor: Actor, staged: StagedUpload) -> Run:
        run = Run(staged, actor.name)
        with self.lock:
            self.runs[staged.batch_id] = run
            finished = [k for k, r in self.runs.items() if r.state == "finished"]
            for key in finished[: max(0, len(self.runs) - KEEP_RUNS)]:
                del self.runs[key]
        self.pool.submit(self._run, actor, run)
        return run

    def get(self, batch_id: str) -> Run | None:
        with self.lock:
            return self.runs.get(batch_id)

    def snapshot(self, run: Run) -> tuple[dict[str, str], list[str], str | None, str]:
        """A run's live stages, its manifest errors (and why it could not run), where its files are kept, and
        the outage it is waiting out (if any)."""
        with self.lock:
            errors = [*run.manifest_errors, *([f"the batch could not run: {run.error}"] if run.error else [])]
            return dict(run.stages), errors, run.kept_at, run.notice

    def queued(self) -> list[Run]:
        with self.lock:
            return [r for r in self.runs.values() if r.state == "queued"]

    def _run(self, actor: Actor, run: Run) -> None:
        staged = run.staged
        with self.lock:
            run.state = "running"
        try:
            report = ingest_batch(self.ctx, actor, staged.batch_dir, observer=_Observer(run, self.lock),
                                  batch_id=staged.batch_id)
            clean = all(DocState(d.status) in CLEAN for d in report.documents)
        except Exception as exc:  # the batch as a whole could not run: its folder stays, the reason is shown
            log.error("batch %s could not run", staged.batch_id, exc_info=True, extra={"batch": staged.batch_id})
            text = str(exc).strip().splitlines()
            with self.lock:
                run.error = (text[0] if text else type(exc).__name__)[:500]
            clean = False
        kept = None if clean else str(staged.batch_dir)
        if clean:
            self._remove(actor, staged)
        with self.lock:
            run.kept_at, run.state = kept, "finished"
            run.stages.clear()

    def _remove(self, actor: Actor, staged: StagedUpload) -> None:
        try:
            shutil.rmtree(staged.root)
            self.ctx.audit.record(actor.name, "batch.upload.removed", staged.batch_id, "ok",
                                  {"folder": str(staged.root)})
        except Exception:  # the batch is archived all the same; the folder is only a leftover copy
            log.warning("could not remove the staging folder of %s", staged.batch_id, exc_info=True,
                        extra={"batch": staged.batch_id})

    def close(self) -> None:
        """Stop taking batches: queued ones are dropped (their folders stay, logged); running ones finish."""
        with self.lock:
            waiting = [r for r in self.runs.values() if r.state == "queued"]
        for run in waiting:
            log.warning("batch %s not started before shutdown; its files stay in %s", run.staged.batch_id,
                        run.staged.batch_dir, extra={"batch": run.staged.batch_id})
        self.pool.shutdown(wait=True, cancel_futures=True)
        with _RUNNERS_LOCK:
            _RUNNERS.pop(id(self.ctx), None)


_RUNNERS: dict[int, BatchRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner_for(ctx: Context, create: bool = True) -> BatchRunner | None:
    """The runner of this Context (one per API process), made on first use and closed with the Context."""
    with _RUNNERS_LOCK:
        found = _RUNNERS.get(id(ctx))
        if found is None and create:
            found = _RUNNERS[id(ctx)] = BatchRunner(ctx)
            ctx._closers.append(found)
        return found


def start_batch(ctx: Context, actor: Actor, staged: StagedUpload) -> Run:
    """Queue a staged upload for ingest (the staging already required the archivist role)."""
    actor.require(Role.ARCHIVIST, "ingest batches")
    runner = runner_for(ctx)
    assert runner is not None
    return runner.submit(actor, staged)


# ---- status -----------------------------------------------------------------------------------------------
def _state(run: Run | None, row: BatchRow | None) -> str:
    if run is not None and run.state in ("queued", "running"):
        return run.state
    if run is not None and run.error:
        return "incomplete"
    if row is None:
        return "queued"
    return {"done": "done", "running": "running"}.get(row.state, "incomplete")


def _summary(counts: dict[DocState, int]) -> dict[str, int]:
    summary = {key: counts.get(DocState(key), 0) for key in SUMMARY}
    summary["pending"] = sum(counts.get(s, 0) for s in WAITING)
    return summary


def _visible(actor: Actor, submitter: str) -> bool:
    return actor.name == submitter or actor.has(Role.ADMIN)


HIDDEN = "(above your clearance)"


def _document(ctx: Context, actor: Actor, item: BatchItemRow, live: dict[str, str]) -> dict[str, Any]:
    """One item as ``actor`` may see it: an item classified above their clearance (an admin cleared lower than
    the submitter) shows neither its file name, its id nor its reason; a duplicate of a document the caller may
    not see names neither that document nor its fate (a destroyed one's reason cites the disposal)."""
    above = item.classification_rank is not None and item.classification_rank > actor.clearance.rank
    unseen_twin = (item.state is DocState.DUPLICATE and bool(item.doc_id)
                   and ctx.catalog.get_record(item.doc_id, actor.clearance.rank) is None)
    stage = live.get(item.source_path) if item.state in WAITING else None
    return {"source": HIDDEN if above else item.source_path, "state": item.state.value,
            "stage": stage or item.stage or ("queued" if item.state in WAITING else "done"),
            "doc_id": None if above or unseen_twin else item.doc_id or None,
            "reason": (None if above else "the same content is already in the archive" if unseen_twin
                       else item.reason or None)}


def batch_status(ctx: Context, actor: Actor, batch_id: str) -> dict[str, Any]:
    """One batch: its state, counts per outcome, each document's state and live stage, where its files are
    kept if they are. Archivists only; NotFound unless the caller submitted it or is an administrator."""
    actor.require(Role.ARCHIVIST, "follow batches")
    runner = runner_for(ctx, create=False)
    run = runner.get(batch_id) if runner is not None else None
    row = ctx.catalog.get_batch(batch_id) if run is None or run.state != "queued" else None
    submitter = run.submitter if run is not None else row.actor if row is not None else None
    if submitter is None or not _visible(actor, submitter):
        raise NotFound(f"no batch {batch_id!r}")
    items = ctx.catalog.batch_items(batch_id) if row is not None else []
    live, errors, kept, notice = (runner.snapshot(run) if runner is not None and run is not None
                                  else ({}, [], None, ""))
    state = _state(run, row)
    counts: dict[DocState, int] = {}
    for item in items:
        counts[item.state] = counts.get(item.state, 0) + 1
    if kept is None and row is not None and state == "incomplete" and Path(row.root).exists():
        kept = row.root  # known from the journal after a restart
    summary = _summary(counts)
    return {"batch_id": batch_id, "name": run.staged.name if run is not None else row.name if row else "",
            "state": state, "total": len(items), "finished": len(items) - summary["pending"], "summary": summary,
            "documents": [_document(ctx, actor, item, live) for item in items], "manifest_errors": errors,
            "kept_at": kept, "notice": notice or None}


def my_batches(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """The caller's batches, newest first: those still queued here, then those the journal knows."""
    actor.require(Role.ARCHIVIST, "follow batches")
    runner = runner_for(ctx, create=False)
    out: list[dict[str, Any]] = []
    for run in reversed(runner.queued() if runner is not None else []):
        if run.submitter == actor.name:
            out.append({"batch_id": run.staged.batch_id, "name": run.staged.name, "state": "queued", "total": 0,
                        "finished": 0, "summary": _summary({}), "started_at": None, "finished_at": None})
    for row in ctx.catalog.list_batches():
        if row.actor != actor.name:
            continue
        run = runner.get(row.id) if runner is not None else None
        summary = _summary(row.counts)
        total = sum(row.counts.values())
        out.append({"batch_id": row.id, "name": row.name, "state": _state(run, row), "total": total,
                    "finished": total - summary["pending"], "summary": summary, "started_at": row.started_at,
                    "finished_at": row.finished_at})
    return out
