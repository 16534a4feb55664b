"""What the pipeline benchmark reads from /proc: the CPU time and resident size of a tree of processes, and how
busy the whole machine was.

CPU of a tree between two snapshots: for every process below the roots, its own user + system time plus what it
collected from children it waited for (``utime + stime + cutime + cstime`` in ``/proc/PID/stat``), plus what this
process collected from its own reaped children (RUSAGE_CHILDREN). A process that exits between the snapshots is
counted through its parent's ``cutime``, so the sum at the end minus the sum at the start is the CPU every process
of the tree spent in between, short-lived ones (Tesseract, Ghostscript, qpdf) included, without sampling. This
process itself (the benchmark) is left out.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    name: str
    cpu_s: float  # its own user + system time plus its waited-for children's


def processes() -> dict[int, Proc]:
    table: dict[int, Proc] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                raw = fh.read()
        except OSError:
            continue
        name, rest = raw[raw.index("(") + 1: raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
        # after the name: state ppid … utime(14) stime cutime cstime, numbered from the pid as field 1
        ticks = sum(int(v) for v in rest[11:15])
        table[int(entry)] = Proc(int(entry), int(rest[1]), name, ticks / TICK)
    return table


def descendants(table: dict[int, Proc], roots: Iterable[int]) -> set[int]:
    """The roots (those still running) and every process below them."""
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found: set[int] = set()
    todo = [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


def tree_cpu_s(extra_roots: Iterable[int] = ()) -> float:
    """CPU seconds spent so far by every process below this one (and below ``extra_roots``, e.g. a daemonized
    Redis), this one excluded; compare two calls."""
    table = processes()
    me = os.getpid()
    tree = descendants(table, [me, *extra_roots]) - {me}
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(table[pid].cpu_s for pid in tree) + reaped.ru_utime + reaped.ru_stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot (/proc/stat): every job on it, not only ours."""
    with open("/proc/stat", encoding="ascii") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest time is inside user)
    return total - values[3] - values[4], total


@dataclass
class Window:
    """Wall time, our CPU time and the machine's utilisation over one measured stretch."""

    extra_roots: tuple[int, ...] = ()
    wall_s: float = 0.0
    cpu_s: float = 0.0
    machine_util: float = 0.0
    _start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __enter__(self) -> Window:
        busy, total = machine_busy()
        self._start = (time.monotonic(), tree_cpu_s(self.extra_roots), busy, total)
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = machine_busy()
        started, cpu, busy0, total0 = self._start
        self.wall_s = time.monotonic() - started
        self.cpu_s = tree_cpu_s(self.extra_roots) - cpu
        self.machine_util = (busy - busy0) / max(1, total - total0)


def label(pid: int, name: str) -> str:
    """A readable name: ``ocrmypdf`` for ``python -m ocrmypdf``, ``archive worker`` for the worker and its pool."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return name
    if len(argv) > 2 and os.path.basename(argv[0]).startswith("python"):
        argv = argv[2:] if argv[1] == "-m" else argv[1:]
    if argv and os.path.basename(argv[0]) == "archive":
        return " ".join(["archive", *argv[1:2]])
    if argv and argv[0] in ("ocrmypdf", "pipeline.devtools.responders"):
        return argv[0]
    return name


def _field_mb(path: str, name: str) -> float:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(name):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0  # gone, or a kernel thread


def rss_mb(pid: int) -> float:
    """Resident size: every page the process maps, shared ones included (VmRSS)."""
    return _field_mb(f"/proc/{pid}/status", "VmRSS:")


def pss_mb(pid: int) -> float:
    """Proportional share: a page shared by n processes counts 1/n in each, so a sum counts it once (the pool
    processes a Celery worker forks share most of their pages with it)."""
    return _field_mb(f"/proc/{pid}/smaps_rollup", "Pss:")


@dataclass
class RssPeaks:
    """Peaks seen by :class:`RssSampler`: the sum over the ingesting processes (of their RSS, and of their PSS), their
    largest single process (RSS), and the sum over the services (Redis, the S3 server, the PKI responders; RSS)."""

    total_mb: float = 0.0
    total_pss_mb: float = 0.0
    first_pss_mb: float = 0.0  # the sum at the first sample: the idle worker and the ingest command starting
    largest_mb: float = 0.0
    largest_name: str = ""
    services_mb: float = 0.0
    samples: int = 0
    by_name: dict[str, float] = field(default_factory=dict)


class RssSampler(threading.Thread):
    """Every ``every_s`` seconds, the resident size (VmRSS) of every process below ``ingest_roots()`` (the ingest
    CLI, the worker and everything they run) and of the rest of this process's tree plus ``service_roots``."""

    def __init__(self, ingest_roots: Callable[[], Iterable[int]], service_roots: Iterable[int] = (),
                 every_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.ingest_roots, self.service_roots, self.every_s = ingest_roots, tuple(service_roots), every_s
        self.peaks = RssPeaks()
        self._stop_event = threading.Event()
        self._names: dict[tuple[int, str], str] = {}

    def run(self) -> None:
        me = os.getpid()
        while not self._stop_event.is_set():
            self.sample(me)
            self._stop_event.wait(self.every_s)

    def sample(self, me: int) -> None:
        table = processes()
        ingest = descendants(table, self.ingest_roots())
        services = descendants(table, [me, *self.service_roots]) - ingest - {me}
        sizes = {pid: rss_mb(pid) for pid in ingest}
        peaks = self.peaks
        peaks.samples += 1
        peaks.total_mb = max(peaks.total_mb, sum(sizes.values()))
        pss = sum(pss_mb(pid) for pid in ingest)
        peaks.first_pss_mb = peaks.first_pss_mb if peaks.samples > 1 else pss
        peaks.total_pss_mb = max(peaks.total_pss_mb, pss)
        peaks.services_mb = max(peaks.services_mb, sum(rss_mb(pid) for pid in services))
        for pid, mb in sizes.items():
            name = self._names.setdefault((pid, table[pid].name), label(pid, table[pid].name))
            peaks.by_name[name] = max(peaks.by_name.get(name, 0.0), mb)
            if mb > peaks.largest_mb:
                peaks.largest_mb, peaks.largest_name = mb, name

    def stop(self) -> RssPeaks:
        self._stop_event.set()
        self.join()
        return self.peaks
