"""Work folders of documents being processed: room on the disk before one starts, a clear "disk full" when the
disk fills up while one runs, and nothing left behind, not even by a process killed with SIGKILL.

Each document gets its own folder under ``settings.work_dir`` (0700), named ``doc.<host>.<pid>.<label>.<random>``
(``intake.…`` for a worker's staged copy of the inputs). The external programs started while it is open write
their temporary files into it too (``TMPDIR``: :func:`pipeline.tools.run.scratch_dir`; OCRmyPDF gets a folder
inside it), so removing the folder, on success and on failure, removes everything. A process killed outright
cannot remove its folder: the name says which process on which host owned it, and :func:`sweep` (at worker
start, and now and then in every process that creates folders) removes the folders of processes that are gone.

A disk without room is an outage of the machine, not a fault of the document: :class:`DiskFull` is an ``OSError``
with ``errno.ENOSPC``, which :func:`pipeline.app.process.is_transient` retries and never quarantines.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from pipeline.app.errors import causes
from pipeline.core.settings import Settings
from pipeline.tools.run import memory_limit, scratch_dir

log = logging.getLogger("archive.workspace")

# A folder is stale only when its process is gone AND it was last touched this long ago: a process that just
# started a document, or a pid number reused since, never loses a live folder.
STALE_AFTER_S = 300.0
SWEEP_EVERY_S = 600.0  # how often a long-lived process looks again for folders of dead processes
NEARLY_FULL_MB = 64.0  # a tool failing while the disk has less than this left failed for lack of room
_KINDS = ("doc", "intake")
_NAME = re.compile(r"^(?P<kind>doc|intake)\.(?P<host>[A-Za-z0-9-]{1,40})\.(?P<pid>[0-9]{1,10})\.[0-9a-z-]{0,24}\."
                   r"[a-z0-9_]{8}$")
# Folders named before hosts and pids were part of the name (``<12 hex>-<random>``, ``intake-<random>``): no owner
# to ask, so they go only once older than a day.
_LEGACY = re.compile(r"^(?:[0-9a-f]{12}|intake)-[a-z0-9_]{8}$")
LEGACY_AFTER_S = 24 * 3600.0
_NO_SPACE_TEXT = ("No space left on device", "ENOSPC", "Disk quota exceeded")
_last_sweep: dict[Path, float] = {}
_scratches: dict[Path, ExitStack] = {}


class DiskFull(OSError):
    """No room on the work folder's disk: ``errno.ENOSPC`` (retried, never quarantined), and a sentence that
    names the folder and the numbers: "disk full at /var/archive/work: 120 MB free, 500 MB needed"."""

    def __init__(self, directory: Path, free_mb: float, needed_mb: float | None = None, detail: str = "") -> None:
        needed = f", {needed_mb:.0f} MB needed" if needed_mb is not None else ""
        super().__init__(errno.ENOSPC, f"disk full at {directory}: {free_mb:.0f} MB free{needed}"
                                       + (f", {detail}" if detail else ""))

    def __str__(self) -> str:
        return str(self.strerror)

    def __reduce__(self) -> tuple[type[OSError], tuple[int, str]]:
        return OSError, (errno.ENOSPC, str(self))  # crosses process boundaries (Celery results) as a plain OSError


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".")[0])[:40] or "host"


def free_mb(directory: Path) -> float:
    """Megabytes an unprivileged process may still write on ``directory``'s filesystem."""
    stats = os.statvfs(directory)
    return stats.f_bavail * stats.f_frsize / 2**20


def require_room(settings: Settings) -> None:
    """Raise :class:`DiskFull` when the work folder's disk has less than ``[intake] min_free_mb`` free."""
    needed = settings.intake.min_free_mb
    if needed <= 0:
        return
    free = free_mb(settings.work_dir)
    if free < needed:
        log.warning("work folder %s: %.0f MB free, %d MB needed: document not started", settings.work_dir, free,
                    needed)
        raise DiskFull(settings.work_dir, free, needed)


def create(settings: Settings, label: str = "", kind: str = "doc") -> Path:
    """A new private folder for one document (after a check of the free space, and now and then a sweep of folders
    dead processes left). While it exists, external programs started in this thread write their temporary files
    into it and get at most ``[ocr] tool_max_memory_mb`` of address space each. Give it back with :func:`remove`."""
    if kind not in _KINDS:
        raise ValueError(f"unknown work folder kind {kind!r}")
    root = settings.work_dir
    root.mkdir(parents=True, exist_ok=True)
    if time.monotonic() - _last_sweep.get(root, -SWEEP_EVERY_S) >= SWEEP_EVERY_S:
        sweep(settings)
    require_room(settings)
    clean = re.sub(r"[^0-9a-z-]", "", label.lower())[:24]
    try:
        path = Path(tempfile.mkdtemp(prefix=f"{kind}.{_host()}.{os.getpid()}.{clean}.", dir=root))
    except OSError as exc:
        full = _disk_full(exc, root, settings, guess=False)
        if full is None:
            raise
        raise full from exc
    stack = ExitStack()
    stack.enter_context(scratch_dir(path))
    stack.enter_context(memory_limit(settings.ocr.tool_max_memory_mb))
    _scratches[path] = stack
    return path


def remove(path: Path) -> None:
    """Remove a folder made by :func:`create`, whatever is in it (ending its scratch role first)."""
    stack = _scratches.pop(path, None)
    if stack is not None:
        try:
            stack.close()
        except ValueError:  # closed from another context than it was opened in: TMPDIR is that context's business
            log.debug("scratch context of %s closed elsewhere", path)
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        log.warning("work folder %s could not be removed entirely", path)


def _disk_full(exc: BaseException, where: Path, settings: Settings, guess: bool = True) -> DiskFull | None:
    try:
        free = free_mb(where)
    except OSError:
        free = 0.0
    said = ""
    for current in causes(exc):
        if isinstance(current, DiskFull):
            return current
        text = str(current)
        if (isinstance(current, OSError) and current.errno == errno.ENOSPC) or any(t in text for t in _NO_SPACE_TEXT):
            said = "ran out while the document was processed"
            break
    else:
        if guess and free < min(NEARLY_FULL_MB, settings.intake.min_free_mb):
            said = f"nearly out when the document failed ({_first_line(str(exc))[:100]})"
    if not said:
        return None
    log.warning("disk full at %s (%.0f MB free): %s", settings.work_dir, free, _first_line(str(exc)))
    return DiskFull(settings.work_dir, free, None, said)


def disk_full(exc: BaseException, workdir: Path, settings: Settings, guess: bool = True) -> DiskFull | None:
    """The failure of a document read as the disk filling up, or None. Yes when the disk said so (ENOSPC anywhere
    in the causes, "No space left on device" in a tool's message), or, with ``guess`` (for failures no service
    outage explains), when it happened while the work folder's disk had almost nothing left: Ghostscript and
    Tesseract do not always say why a write failed, and the document must be retried, not quarantined."""
    return _disk_full(exc, workdir if workdir.exists() else settings.work_dir, settings, guess)


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:160]


def _started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from /proc; None when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text(encoding="ascii").splitlines()
                    if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: start time in clock ticks
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def _owner_gone(pid: int, touched: float) -> bool:
    """True when no process ``pid`` runs, or the one that does started after the folder was last touched (the
    number was reused since)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists (another user's)
    started = _started_at(pid)
    return started is not None and started > touched + 2  # btime has a resolution of one second


def sweep(settings: Settings, stale_after_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove the work folders of this host's processes that are gone (killed mid-document) and untouched for
    ``stale_after_s``; logged. Folders of other hosts (a shared work disk), of live processes and anything not
    named by :func:`create` are left alone. Returns what was removed."""
    root = settings.work_dir
    _last_sweep[root] = time.monotonic()
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return []
    host, now, removed = _host(), time.time(), []
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            touched = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        match = _NAME.match(entry.name)
        if match is not None:
            stale = (match["host"] == host and now - touched >= stale_after_s
                     and _owner_gone(int(match["pid"]), touched))
        else:
            stale = _LEGACY.match(entry.name) is not None and now - touched >= max(stale_after_s, LEGACY_AFTER_S)
        if stale:
            path = Path(entry.path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.warning("removed %d work folder(s) left by processes that are gone: %s", len(removed),
                    ", ".join(p.name for p in removed[:10]) + (" …" if len(removed) > 10 else ""))
    return removed
