"""The hot folder (`archive watch DIR`): every sub-folder of DIR is a batch (the layout `archive ingest` takes),
ingested once its files have stopped changing, then moved to ``DIR/done/`` or ``DIR/failed/`` with a summary.

* **Stable**: the folder's tree (every entry's relative path, size and mtime in ns; links not followed) looked
  the same to this watcher for ``settle_s`` seconds, looked at every ``interval_s``. A folder without a file (OS
  leftovers aside) is not a batch yet. With ``ready``, a batch must also hold that marker file (removed once claimed).
* **Claimed** by one atomic rename into ``DIR/.processing/``, with a state file ``.processing/.state/<name>.json``
  (the batch id, chosen before the ingest starts; the runs made; where it came from: :mod:`.watch_files`), and
  ingested from there.
* **Restart-safe, exactly once**: claimed batches are taken up first at start. One the journal knows is completed
  by :func:`~pipeline.app.batch_resume.resume_batch` under the same id (ingest is idempotent by content hash; a
  document stored but not sealed by the killed run is completed, never stored twice), after journalling any
  document of the folder the killed run had not journalled yet.
* **Finished**: ``done/<name>`` when every document is archived, a duplicate or skipped; ``failed/<name>`` when
  any was quarantined, the manifest had bad rows, or the batch could not be ingested; ``<name>.json`` next to it
  says why. A name taken there gets ``-2``, ``-3`` …, never overwritten. Documents left unfinished by an outage
  keep the batch claimed, run again later up to ``attempts`` runs (one the watcher was killed in counts), then
  failed/.
* One watcher per folder (a lock file); :meth:`Watcher.stop` ends the loop between batches.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.app.batch_resume import UNFINISHED, batch_status, resume_batch
from pipeline.app.batches import NullObserver, executor_for, ingest_batch, require_intake_root
from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.app.process import ARCHIVED, DocumentOutcome, is_transient
from pipeline.app.uploads import UPLOADS_DIR
from pipeline.app.watch_files import (
    Listing,
    WorkFolder,
    free_name,
    holds_file,
    make_folder,
    tree_listing,
    write_json,
)
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import DocState, Role
from pipeline.scan import plan_batch
from pipeline.scan.junk import junk_reason

log = logging.getLogger("archive.watch")
DONE, FAILED = "done", "failed"


@dataclass
class WatchOptions:
    settle_s: float = 30.0  # a batch's tree unchanged this long before it is claimed
    interval_s: float = 5.0  # between looks at the folder
    executor: str | None = None  # "local" or "celery"; None: the setting
    wait_s: float = 6 * 3600  # how long an ingest waits for the workers (as `archive ingest --wait`)
    attempts: int = 3  # runs of a batch left unfinished by outages before it goes to failed/
    retry_s: float = 60.0  # before the next run of such a batch (times the runs made)
    ready: str | None = None  # a marker file a batch must also hold before it is claimed


@dataclass
class Finished:
    """A batch moved to done/ or failed/."""

    name: str
    batch_id: str
    result: str  # DONE or FAILED
    folder: Path  # where it is now; its summary is folder + ".json"
    reason: str


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Progress(NullObserver):
    """Each document's outcome and each outage waited out, as log lines (the CLI shows them)."""

    def __init__(self, batch: str) -> None:
        self.batch = batch

    def done(self, outcome: DocumentOutcome) -> None:
        said = f" ({outcome.reason})" if outcome.reason and outcome.status != ARCHIVED else ""
        log.info("%s/%s: %s%s", self.batch, outcome.source, outcome.status, said)

    def notice(self, message: str) -> None:
        log.warning("%s: %s", self.batch, message or "service back, going on")


class Watcher:
    """One hot folder. Checks at construction (one-line :class:`Invalid`): the actor may ingest, the folder
    exists inside the intake roots, the executor is known, no other watcher holds the folder."""

    def __init__(self, ctx: Context, actor: Actor, folder: Path, options: WatchOptions | None = None) -> None:
        actor.require(Role.ARCHIVIST, "ingest batches")
        self.ctx, self.actor, self.options = ctx, actor, options or WatchOptions()
        if not folder.is_dir():
            raise Invalid(f"watch folder {folder} not found (or not a folder)")
        self.folder = Path(os.path.realpath(folder))
        roots = ctx.settings.intake_roots
        try:
            require_intake_root(roots, self.folder)
        except Invalid:
            raise Invalid(f"watch folder {folder} is outside the intake roots ({', '.join(map(str, roots))}): "
                          "watch a folder inside one, or add it to intake.roots") from None
        self._uploads = Path(os.path.realpath(roots[0] / UPLOADS_DIR))  # the API's staging: never a batch here
        if self.folder.is_relative_to(self._uploads):
            raise Invalid(f"watch folder {folder} is inside the REST API's upload staging ({self._uploads})")
        self.executor = executor_for(ctx, self.options.executor, self.folder)
        for made in (self.folder / DONE, self.folder / FAILED):
            make_folder(made, self.folder)
        self.work = WorkFolder(self.folder, folder)
        self._stopping = False  # a plain flag, no lock: set from signal handlers too
        self._seen: dict[str, tuple[Listing, float]] = {}  # batch name → (its listing, since when unchanged)
        self._told: set[str] = set()  # loose files already warned about
        self._retry_at: dict[str, float] = {}  # claimed batch → when to run it again (monotonic)

    # ---- the loop -------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """End :meth:`run` after the batch being ingested (safe from another thread or a signal handler)."""
        self._stopping = True

    def _pause(self, seconds: float) -> None:
        """Sleep until the next look, waking early (within 0.2 s) when stopped."""
        end = time.monotonic() + seconds
        while not self._stopping and (left := end - time.monotonic()) > 0:
            time.sleep(min(0.2, left))

    def run(self, once: bool = False) -> list[Finished]:
        """Take up the claimed batches, then watch until :meth:`stop`. ``once``: ingest what is stable within one
        settle window (and the claimed batches), then return."""
        finished: list[Finished] = []
        log.info("watching %s (settle %g s, every %g s, %s executor)", self.folder, self.options.settle_s,
                 self.options.interval_s, self.executor)
        self._tidy()
        for claim in self.work.claims():
            if self._stopping:
                break
            finished += self._process(claim)
        started: float | None = None
        while not self._stopping:
            now = time.monotonic()
            started = started or now  # the first look: a batch seen then is stable at the window's end
            window_left = started + self.options.settle_s - now
            claim = self._due() or self._claim_stable(now)
            if claim is not None:
                finished += self._process(claim)
                continue
            if once and window_left <= 0:
                break
            self._pause(min(self.options.interval_s, window_left) if once else self.options.interval_s)
        log.info("stopped watching %s", self.folder)
        return finished

    def close(self) -> None:
        self.work.close()  # releases the lock

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- waiting for stable batches -------------------------------------------------------------------------
    def _candidates(self) -> list[Path]:
        """Sub-folders that may be batches: not done/, failed/, hidden names or OS leftovers. A loose file is
        said once (it is not in a batch) and left alone."""
        found: list[Path] = []
        with os.scandir(self.folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                path = Path(entry.path)
                if (entry.name in (DONE, FAILED) or entry.name.startswith((".", "~")) or path == self._uploads
                        or junk_reason(path)):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    found.append(path)
                elif entry.name not in self._told:
                    self._told.add(entry.name)
                    log.warning("%s is not in a batch folder: left alone (put documents in a sub-folder)", path)
        return found

    def _claim_stable(self, now: float) -> Path | None:
        """The first batch unchanged for the settle time (at ``now``), claimed; None when none is (yet)."""
        current: dict[str, tuple[Listing, float]] = {}
        ready: list[Path] = []
        for path in self._candidates():
            listing = tree_listing(path)
            if listing is None:
                continue
            before = self._seen.get(path.name)
            since = before[1] if before is not None and before[0] == listing else now
            current[path.name] = (listing, since)
            marked = self.options.ready is None or holds_file(listing, self.options.ready)
            if marked and now - since >= self.options.settle_s and any(  # a folder with only .DS_Store waits
                    not is_dir and not junk_reason(path / rel) for rel, is_dir, _size, _mtime in listing):
                ready.append(path)
        self._seen = current
        for path in sorted(ready, key=lambda p: (current[p.name][1], p.name)):
            target = free_name(self.work.path, path.name)
            try:
                os.rename(path, target)  # atomic: the scanner can no longer add to it
            except OSError as exc:  # vanished, or moved by someone else meanwhile
                log.warning("could not claim %s: %s", path, exc)
                continue
            state = self.work.new(target, path.name, str(path))
            log.info("claimed %s (unchanged for %.1f s) as batch %s", path.name, now - current[path.name][1],
                     state["batch_id"], extra={"batch": state["batch_id"]})
            return target
        return None

    # ---- claimed batches ------------------------------------------------------------------------------------
    def _tidy(self) -> None:
        """States left without their folder: a move to done/ or failed/ interrupted before the summary was written
        is completed; any other is forgotten (said)."""
        for claim, state in self.work.orphans():
            moved = Path(state["moving_to"]) if state.get("moving_to") else None
            if moved is not None and moved.is_dir():
                self._summarise(state, moved)
            else:
                log.warning("batch %s (%s) is gone from %s: forgetting it", state.get("name", claim.name),
                            state.get("batch_id", "?"), self.work.path)
            self.work.forget(claim)

    def _due(self) -> Path | None:
        """A claimed batch left unfinished whose next run is due."""
        now = time.monotonic()
        for name, when in sorted(self._retry_at.items(), key=lambda kv: kv[1]):
            if when <= now:
                del self._retry_at[name]
                if (self.work.path / name).is_dir():
                    return self.work.path / name
        return None

    def _process(self, claim: Path) -> list[Finished]:
        """Ingest (or resume) a claimed batch, then move it where it belongs; [] while it stays claimed."""
        state = self.work.state(claim)
        batch_id, name, runs = state["batch_id"], state["name"], int(state.get("attempts", 0))
        if runs >= self.options.attempts:  # every run so far ended with the watcher itself (killed, out of memory)
            return [self._finish(claim, state, FAILED, f"not finished after {runs} run(s): the watcher was killed "
                                                       "during the last one")]
        if self.options.ready:
            (claim / self.options.ready).unlink(missing_ok=True)
        state["attempts"] = runs + 1
        self.work.save(claim, state)
        try:
            manifest_errors = self._ingest(claim, batch_id)
            items = self.ctx.catalog.batch_items(batch_id)
        except KeyboardInterrupt:  # stopped at once by the operator: not counted as a run
            state["attempts"] = runs
            self.work.save(claim, state)
            raise
        except Exception as exc:
            reason = _one_line(exc)
            if is_transient(exc):
                return self._unfinished(claim, state, f"could not run: {reason}")
            log.error("batch %s could not be ingested: %s", name, reason, exc_info=not isinstance(exc, Invalid),
                      extra={"batch": batch_id})
            return [self._finish(claim, state, FAILED, f"the batch could not be ingested: {reason}")]
        state["manifest_errors"] = manifest_errors
        unfinished = [i for i in items if i.state in UNFINISHED]
        if unfinished:
            first = f"{unfinished[0].source_path}: {unfinished[0].reason or unfinished[0].state.value}"
            return self._unfinished(claim, state, f"{len(unfinished)} document(s) unfinished ({first})")
        bad = [i for i in items if i.state is DocState.QUARANTINED]
        if bad or manifest_errors:
            said = [f"{i.source_path}: {i.reason}" for i in bad[:3]] + manifest_errors[:3]
            reason = (f"{len(bad)} document(s) quarantined, {len(manifest_errors)} manifest error(s): "
                      + "; ".join(said))
            return [self._finish(claim, state, FAILED, reason)]
        return [self._finish(claim, state, DONE, "")]

    def _ingest(self, claim: Path, batch_id: str) -> list[str]:
        """Run the batch under ``batch_id`` (resumed if the journal knows it); its manifest errors."""
        observer = _Progress(claim.name)
        if self.ctx.catalog.get_batch(batch_id) is None:
            report = ingest_batch(self.ctx, self.actor, claim, executor=self.executor, observer=observer,
                                  timeout_s=self.options.wait_s, batch_id=batch_id)
            return report.manifest_errors
        # A batch journalled before start_batch wrote its items in one transaction may lack some: add them.
        plan = plan_batch(claim, scan=self.ctx.settings.scan)
        known = {i.source_path for i in self.ctx.catalog.batch_items(batch_id)}
        for entry in [*plan.problems, *plan.documents]:
            if entry.source_path not in known:
                meta = getattr(entry, "metadata", None)
                self.ctx.catalog.plan_item(batch_id, entry.source_path, getattr(entry, "doc_id", ""),
                                           rank=meta.classification.rank if meta is not None else None)
        log.info("resuming batch %s (%s)", claim.name, batch_id, extra={"batch": batch_id})
        resume_batch(self.ctx, self.actor, batch_id, executor=self.executor, observer=observer,
                     timeout_s=self.options.wait_s)
        return plan.manifest_errors

    def _unfinished(self, claim: Path, state: dict[str, Any], why: str) -> list[Finished]:
        """Documents left unfinished by an outage (or the batch not run at all): the batch stays claimed and runs
        again later, or at the next start when the watcher is stopping; after the last run it goes to failed/."""
        name, batch_id = state["name"], state["batch_id"]
        if self._stopping:
            state["attempts"] -= 1  # stopped, not failed: not counted
            self.work.save(claim, state)
            log.info("batch %s stays in %s, resumed at the next start", name, self.work.path,
                     extra={"batch": batch_id})
            return []
        if state["attempts"] >= self.options.attempts:
            return [self._finish(claim, state, FAILED, f"still unfinished after {state['attempts']} run(s): {why}")]
        delay = self.options.retry_s * state["attempts"]
        self._retry_at[claim.name] = time.monotonic() + delay
        log.warning("batch %s: %s; run %d of %d in %.0f s (it stays in %s)", name, why, state["attempts"] + 1,
                    self.options.attempts, delay, self.work.path, extra={"batch": batch_id})
        return []

    def _finish(self, claim: Path, state: dict[str, Any], result: str, reason: str) -> Finished:
        """Move the claimed folder to done/ or failed/ (a free name), then write its summary next to it."""
        target = free_name(self.folder / result, state["name"])
        state.update(result=result, reason=reason)
        self.work.finished(claim, state, target)
        make_folder(target.parent, self.folder)
        os.rename(claim, target)
        self._summarise(state, target)
        self.work.forget(claim)
        log.log(logging.INFO if result == DONE else logging.WARNING, "batch %s → %s%s", state["name"],
                target.relative_to(self.folder), f": {reason}" * bool(reason), extra={"batch": state["batch_id"]})
        return Finished(state["name"], state["batch_id"], result, target, reason)

    def _summarise(self, state: dict[str, Any], target: Path) -> None:
        """``<target>.json``: what happened to the batch, from its journal (documents above the watcher's
        clearance unnamed, as `archive batch status` shows them)."""
        try:
            status = batch_status(self.ctx, self.actor, state["batch_id"])
        except NotFound:  # refused before its journal began (e.g. a manifest that is not UTF-8)
            status = {"state": "not started", "summary": {}, "documents": []}
        except Exception as exc:  # the catalog is away: the move stands, the summary says so
            status = {"state": f"unknown (the journal could not be read: {_one_line(exc)})", "summary": {},
                      "documents": []}
        write_json(target.with_name(f"{target.name}.json"), {
            "batch": state["name"], "batch_id": state["batch_id"], "result": state.get("result", target.parent.name),
            "reason": state.get("reason", ""), "folder": str(target), "came_from": state.get("source", ""),
            "claimed_at": state.get("claimed_at"), "finished_at": state.get("finished_at"),
            "runs": state.get("attempts"), "journal": status["state"], "summary": status["summary"],
            "manifest_errors": state.get("manifest_errors", []),
            "documents": [{k: d.get(k) for k in ("source", "state", "doc_id", "reason")} for d in status["documents"]],
        })
