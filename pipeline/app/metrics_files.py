"""The files behind the metrics: prometheus_client's multiprocess mode, one directory per archive home.

Every process that records (a CLI ingest, each Celery pool process, the REST service) writes its own memory-mapped
files ``<kind>_<host>-<pid>.db`` under ``<home>/metrics``; whoever exposes the metrics sums all of them
(:meth:`MultiProcessCollector.merge`). Nothing listens on a port.

Why not the library's usual set-up (``PROMETHEUS_MULTIPROC_DIR`` exported before Python starts, metrics at module
level): one Python process may serve several homes (tests, tools), and the directory comes from the settings, not
from the environment. So each (process, directory) gets its own value class, ``MultiProcessValue`` with our process
identifier (the documented way to change it), installed only while that directory's metric objects are built.
Every label combination is built then, so recording never creates a metric child (which would pick whatever value
class is installed at that moment).

Why ``<host>-<pid>`` and not the pid: the workers of docker-compose share one home volume from separate containers,
whose pid namespaces overlap; two live processes writing one file would corrupt it. The files stay after a process
ends: counters are totals since the directory was made, summed over every process that ever recorded (a later
process with the same identifier continues its file). Live gauges (documents in progress) are the exception: a
dead process's file is removed (:func:`forget_process`, :func:`forget_dead_processes`).
"""

from __future__ import annotations

import atexit
import glob
import logging
import math
import os
import re
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.utils import floatToGoString

from pipeline.core.settings import Settings

ENV = "PROMETHEUS_MULTIPROC_DIR"
DIR_NAME = "metrics"
log = logging.getLogger("archive.metrics")


@dataclass(frozen=True)
class Family:
    """One metric and every label combination it will ever have (all exported from the start, at 0)."""

    name: str  # without the _total suffix of a counter
    kind: str  # counter | histogram | gauge
    doc: str
    labels: tuple[str, ...] = ()
    values: tuple[tuple[str, ...], ...] = ((),)
    buckets: tuple[float, ...] = ()
    mode: str = ""  # a gauge's multiprocess mode, e.g. livesum

    def zero_samples(self) -> list[tuple[str, dict[str, str]]]:
        """(sample name, labels) of every series, in exposition order."""
        out: list[tuple[str, dict[str, str]]] = []
        for combo in self.values:
            labels = dict(zip(self.labels, combo, strict=True))
            if self.kind == "histogram":
                bounds = (*self.buckets, math.inf)
                out += [(f"{self.name}_bucket", {**labels, "le": floatToGoString(b)}) for b in bounds]
                out += [(f"{self.name}_count", labels), (f"{self.name}_sum", labels)]
            else:
                out.append((f"{self.name}_total" if self.kind == "counter" else self.name, labels))
        return out


def metrics_dir(settings: Settings) -> Path:
    return settings.home / DIR_NAME


def prepare_dir(settings: Settings) -> Path:
    """``<home>/metrics``, owner-only (0700) even if it was made looser: the files count classified documents."""
    path = metrics_dir(settings)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:
        path.chmod(0o700)
    return path


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", socket.gethostname()) or "host"


def process_ident(pid: int | None = None) -> str:
    """This process's file identifier: no underscore (the collector splits file names on it)."""
    return f"{_host()}-{os.getpid() if pid is None else pid}"


def forget_process(directory: Path, ident: str) -> None:
    """Drop a finished process's live gauges (its counters and histograms stay: they are totals)."""
    mark_process_dead(ident, str(directory))


def forget_dead_processes(directory: Path) -> list[str]:
    """Drop the live gauges of processes of this host that no longer run (a pool process killed mid-document).
    Other hosts' files are left alone: their pids mean nothing here."""
    gone = []
    prefix = f"{_host()}-"
    for path in glob.glob(str(directory / f"gauge_live*_{glob.escape(prefix)}*.db")):
        ident = os.path.basename(path).split("_")[2][: -len(".db")]
        pid = ident[len(prefix):]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        forget_process(directory, ident)
        gone.append(ident)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class Recorder:
    """The metric children of one (process, directory): ``child(family, *label values)``."""

    def __init__(self, directory: Path, families: Iterable[Family]) -> None:
        self.directory = directory
        self._children: dict[str, dict[tuple[str, ...], Any]] = {}
        for family in families:
            metric = _metric(family)
            self._children[family.name] = {v: metric.labels(*v) if family.labels else metric for v in family.values}

    def child(self, family: Family, *label_values: str) -> Any:
        return self._children[family.name][label_values]


def _metric(family: Family) -> Any:
    if family.kind == "counter":
        return Counter(family.name, family.doc, family.labels, registry=None)
    if family.kind == "histogram":
        return Histogram(family.name, family.doc, family.labels, registry=None, buckets=family.buckets)
    return Gauge(family.name, family.doc, family.labels, registry=None, multiprocess_mode=family.mode)


_recorders: dict[tuple[int, Path], Recorder] = {}
_lock = threading.Lock()


def recorder(settings: Settings, families: Iterable[Family]) -> Recorder:
    """This process's recorder for the settings' home (built once per process: a forked child builds its own)."""
    key = (os.getpid(), metrics_dir(settings))
    found = _recorders.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _recorders:
            _recorders[key] = _build(prepare_dir(settings), families)
        return _recorders[key]


def _build(directory: Path, families: Iterable[Family]) -> Recorder:
    forget_process(directory, process_ident())  # a live file left by an earlier process with our pid
    saved_class, saved_env = values.ValueClass, os.environ.get(ENV)
    os.environ[ENV] = str(directory)  # read by the value class when it opens its files, i.e. now
    values.ValueClass = values.MultiProcessValue(process_ident)
    try:
        built = Recorder(directory, families)
        for path in directory.glob(f"*_{process_ident()}.db"):  # whatever the umask of this process
            path.chmod(0o600)
        atexit.register(_forget_at_exit, directory, os.getpid())
        return built
    finally:
        values.ValueClass = saved_class
        if saved_env is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved_env


def _forget_at_exit(directory: Path, pid: int) -> None:
    if os.getpid() == pid:  # not in a forked child, which inherits the handler
        forget_process(directory, process_ident(pid))


def data_files(directory: Path) -> list[str]:
    return sorted(glob.glob(str(directory / "*.db"))) if directory.is_dir() else []


def merged(directory: Path, families: Iterable[Family]) -> list[Metric]:
    """Every process's values summed, and every declared series present (0 where nothing was recorded yet)."""
    found = {m.name: m for m in MultiProcessCollector.merge(data_files(directory), accumulate=True)}
    out = []
    for family in families:
        metric = Metric(family.name, family.doc, family.kind)
        have = found.pop(family.name, None)
        recorded = {(s.name, _key(s.labels)): s.value for s in have.samples} if have else {}
        for name, labels in family.zero_samples():
            metric.add_sample(name, labels, recorded.pop((name, _key(labels)), 0.0))
        for (name, key), value in recorded.items():  # series outside the declaration (an older version's)
            metric.add_sample(name, dict(key), value)
        out.append(metric)
    return out + list(found.values())


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))
