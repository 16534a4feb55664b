"""The one way the pipeline starts an external program (in the style of OCRmyPDF's ``_exec/``).

Every child gets a *minimal* environment, not a copy of ours: the parent holds secrets (S3 keys,
database URLs, signing PINs in ``ARCHIVE_*`` variables) that a PDF tool has no business seeing, and a
child that crashes may print its environment into a log. Every call has a timeout; on expiry the
child's whole process group is killed (a tool's own helpers too). A missing program or a timeout is a
:class:`ToolError` with one readable line that says what to install or what took too long.

Inside :func:`scratch_dir` (the application layer opens one per document) children get ``TMPDIR`` set to the
document's work folder: Ghostscript's, qpdf's and Tesseract's own temporary files then go where the document's
files go, are counted against that disk's free space, and are removed with the folder, even after a crash.
Inside :func:`memory_limit` each child gets at most that much address space (``RLIMIT_AS``): a hostile PDF that
makes Ghostscript or qpdf allocate without end fails that one document instead of drawing the kernel's OOM killer
onto the worker, Redis or the S3 server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

# Variables copied from our environment when set: locating programs, a home and a scratch folder, and
# where Tesseract finds its language data. Nothing else (never ARCHIVE_*, AWS_*, tokens, PINs).
PASSTHROUGH = ("PATH", "HOME", "TMPDIR", "TESSDATA_PREFIX")
# Tesseract/OpenMP uses every core per page by default; on a shared 2-core worker one thread per
# process is faster overall (measured in pipeline.ocr.runner: 1.9 instead of 9.1 CPU s/page).
DEFAULT_OMP_THREAD_LIMIT = "1"
VERSION_TIMEOUT_S = 30.0
# The scratch folder of the document being worked on in this thread (None: our own TMPDIR, if any).
_SCRATCH: ContextVar[Path | None] = ContextVar("tool_scratch_dir", default=None)
_MEMORY_MB: ContextVar[int] = ContextVar("tool_memory_limit_mb", default=0)  # 0: no limit
_OUT_OF_MEMORY = re.compile(r"VMerror|bad_alloc|[Oo]ut of memory|[Cc]annot allocate|MemoryError")

# Debian/Ubuntu package that provides each program: the fix printed when it is missing.
INSTALL_HINTS = {
    "qpdf": "apt-get install qpdf",
    "pdffonts": "apt-get install poppler-utils",
    "pdfinfo": "apt-get install poppler-utils",
    "pdfsig": "apt-get install poppler-utils",
    "tesseract": "apt-get install tesseract-ocr",
    "gs": "apt-get install ghostscript",
}


class ToolError(Exception):
    """An external program is missing, timed out or (with ``check=True``) failed; one line of text."""


@contextlib.contextmanager
def scratch_dir(path: Path) -> Iterator[Path]:
    """Children started in this block (this thread or task only: a context variable) get ``TMPDIR=path``."""
    token = _SCRATCH.set(path)
    try:
        yield path
    finally:
        _SCRATCH.reset(token)


@contextlib.contextmanager
def memory_limit(megabytes: int) -> Iterator[None]:
    """Children started in this block (this thread or task only) get at most ``megabytes`` of address space each;
    0: no limit."""
    token = _MEMORY_MB.set(max(0, megabytes))
    try:
        yield
    finally:
        _MEMORY_MB.reset(token)


def limit_memory(pid: int) -> int:
    """Apply the block's :func:`memory_limit` to the running program ``pid`` (its later children inherit it); the
    megabytes applied, 0 for none. Set from outside (``prlimit``) once the program runs, never in a ``preexec_fn``:
    nothing runs between fork and exec, so it is safe in a threaded worker. For programs started without
    :func:`run` too (OCRmyPDF). Linux only; elsewhere nothing is limited."""
    megabytes = _MEMORY_MB.get()
    if not megabytes or not hasattr(resource, "prlimit"):
        return 0
    try:
        resource.prlimit(pid, resource.RLIMIT_AS, (megabytes * 2**20, megabytes * 2**20))
    except (OSError, ValueError) as exc:  # already gone, or not permitted: the program runs unlimited
        log.debug("memory limit not applied to %d: %s", pid, exc)
        return 0
    return megabytes


def minimal_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a child gets: UTF-8 C locale, PATH/HOME/TMPDIR (the :func:`scratch_dir` if one is open),
    one OpenMP thread, plus ``extra``."""
    env = {key: os.environ[key] for key in PASSTHROUGH if key in os.environ}
    scratch = _SCRATCH.get()
    if scratch is not None:
        env["TMPDIR"] = str(scratch)
    env.setdefault("PATH", os.defpath)
    env["LANG"] = env["LC_ALL"] = "C.UTF-8"
    env["OMP_THREAD_LIMIT"] = os.environ.get("OMP_THREAD_LIMIT", DEFAULT_OMP_THREAD_LIMIT)
    env.update(extra or {})
    return env


def missing_message(program: str) -> str:
    name = Path(program).name
    hint = INSTALL_HINTS.get(name)
    return f"{name} is not installed: {hint}" if hint else f"{name} is not installed (not found on PATH)"


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.communicate()


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    check: bool = False,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` with captured text output; ``env`` adds to the minimal environment (it never
    replaces it with ours). Raises ToolError when the program is missing, on timeout, and for a
    non-zero exit when ``check`` is true."""
    argv = [os.fspath(a) for a in args]
    name = Path(argv[0]).name
    child_env = minimal_env(env)
    if shutil.which(argv[0], path=child_env["PATH"]) is None:
        raise ToolError(missing_message(argv[0]))
    log.debug("running %s (timeout %g s)", " ".join(argv), timeout)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=child_env,
            cwd=cwd,
            start_new_session=True,  # own process group: a timeout kills the program's children too
        )
    except FileNotFoundError:
        raise ToolError(missing_message(argv[0])) from None
    except PermissionError as exc:
        raise ToolError(f"{name} cannot be started: {exc.strerror}") from None
    limited = limit_memory(proc.pid)
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ToolError(f"{name} timed out after {timeout:g} s and was stopped") from None
    except BaseException:  # e.g. the worker is shutting down: do not leave the child running
        _kill(proc)
        raise
    done = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
    hint = ""
    if limited and done.returncode != 0 and (done.returncode < 0 or _OUT_OF_MEMORY.search(stderr or stdout)):
        hint = f" (stopped at the memory limit of {limited} MB per program: [ocr] tool_max_memory_mb)"
        log.warning("%s failed under its memory limit of %d MB", name, limited)
    if check and done.returncode != 0:
        raise ToolError(f"{name} failed (exit {done.returncode}): {first_line(stderr or stdout)}{hint}")
    return done


def first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0][:300] if lines else "no message"


@cache
def version(program: str, args: tuple[str, ...] = ("--version",)) -> str:
    """The first dotted number ``program args`` prints, e.g. ``"11.3.0"``; ``"unknown"`` if none.
    Cached per process; raises ToolError when the program is missing or hangs."""
    done = run([program, *args], timeout=VERSION_TIMEOUT_S)
    match = re.search(r"\d+(\.\d+)+", done.stdout + "\n" + done.stderr)
    return match.group(0) if match else "unknown"
