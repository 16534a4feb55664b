"""A throw-away archive instance for the pipeline benchmark, started the way the end-to-end tests start theirs
(tests/e2e/conftest.py): its own ARCHIVE_HOME, a TEST PKI, `archive services up` (Redis, the S3 server, the PKI
responders and the local Celery worker, one pool process per core) on free loopback ports; and `archive ingest`
run as a separate process, measured with every process it involves."""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._procs import RssPeaks, RssSampler, Window

log = logging.getLogger("bench.pipeline")
ARCHIVE = str(Path(sys.executable).parent / "archive")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ARCHIVE_* variable (a stray one would change what is measured)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return env | {"OMP_THREAD_LIMIT": "1"} | extra


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports whose neighbour 10000 above is free too (SeaweedFS puts gRPC there)."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randint(21000, 29999)
        if port not in chosen and all(port_free(p) for p in (port, port + 10000)):
            chosen.append(port)
    return chosen


def port_free(port: int) -> bool:
    """Whether a loopback port can be bound now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Ingested:
    """One `archive ingest --json` run: its report and what it cost."""

    report: dict[str, Any]
    exit_code: int
    wall_s: float
    cpu_s: float
    machine_util: float
    peaks: RssPeaks | None = None
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def archived(self) -> list[dict[str, Any]]:
        return [d for d in self.report.get("documents", []) if d.get("status") == "archived"]

    def to_dict(self) -> dict[str, Any]:
        out = {"wall_s": round(self.wall_s, 2), "cpu_s": round(self.cpu_s, 2),
               "machine_util": round(self.machine_util, 3), "exit_code": self.exit_code,
               "documents": len(self.report.get("documents", [])), "archived": len(self.archived),
               "pages": sum(d.get("pages", 0) for d in self.archived), "statuses": self.statuses}
        if self.peaks is not None:
            peaks = self.peaks
            out["rss"] = {"peak_total_mb": round(peaks.total_mb), "peak_total_pss_mb": round(peaks.total_pss_mb),
                          "start_pss_mb": round(peaks.first_pss_mb),
                          "peak_largest_mb": round(peaks.largest_mb), "largest": peaks.largest_name,
                          "services_peak_mb": round(peaks.services_mb), "samples": peaks.samples,
                          "by_program_mb": {k: round(v) for k, v in sorted(peaks.by_name.items())}}
        return out


@dataclass
class Instance:
    home: Path
    env: dict[str, str]
    redis_pid: int
    worker_pid: int

    @property
    def intake(self) -> Path:
        return self.home / "intake"

    def settings(self) -> Any:
        from pipeline.core.settings import load_settings

        return load_settings(self.home, environ={})

    def ingest(self, batch: Path, *, local: bool = False, rss: bool = False, **env: str) -> Ingested:
        """`archive ingest BATCH --json` (through the worker, or ``--local`` in the CLI's process), timed with the
        CPU of every process involved: the CLI, the worker and its children, Redis, the S3 server, the responders."""
        argv = [ARCHIVE, "ingest", str(batch), "--json", *(["--local"] * local)]
        cli: list[int] = []
        sampler = RssSampler(lambda: [self.worker_pid, *cli], [self.redis_pid]) if rss else None
        with Window((self.redis_pid,)) as window:
            proc = subprocess.Popen(argv, env=self.env | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            cli.append(proc.pid)
            if sampler is not None:
                sampler.start()
            out, err = proc.communicate()
        peaks = sampler.stop() if sampler is not None else None
        try:
            report = json.loads(out)
        except json.JSONDecodeError:
            said = f"archive ingest {batch} exited {proc.returncode} without a report:\n{err[-3000:]}"
            raise SystemExit(said) from None
        statuses: dict[str, int] = {}
        for doc in report.get("documents", []):
            statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
        for doc in report.get("documents", []):
            if doc["status"] != "archived":
                log.warning("%s: %s %s", doc["source"], doc["status"], doc.get("reason", ""))
        return Ingested(report, proc.returncode, window.wall_s, window.cpu_s, window.machine_util, peaks, statuses)

    def stored_kb_per_page(self, ingested: Ingested) -> dict[str, float]:
        """Size of the stored archival copies (archive.pdf, signed PDF/A) of the archived documents, per page."""
        from pipeline.archive import ArchiveStore

        store = ArchiveStore(self.settings().s3)
        size = pages = 0
        for doc in ingested.archived:
            record = store.get_record(doc["id"])
            size += record.artefacts["archive.pdf"].size
            pages += record.page_count
        return {"kb_per_page": round(size / 1024 / pages, 1) if pages else 0.0, "pages": pages,
                "documents": len(ingested.archived), "bytes": size}


@contextmanager
def running_instance(home: Path) -> Iterator[Instance]:
    """Services up under ``home``; stopped afterwards whatever happens."""
    from pipeline.core.settings import load_settings, write_settings
    from pipeline.devtools import init_test_pki
    from pipeline.devtools.services.manager import services_down, services_status, services_up
    from pipeline.devtools.testconfig import use_test_pki

    home.mkdir(parents=True, exist_ok=True)
    redis_port, s3_port, filer, master, volume, responders = free_ports(6)
    settings = load_settings(home, environ={})
    settings.redis.port = redis_port
    settings.s3.endpoint = f"127.0.0.1:{s3_port}"
    settings.s3.filer_port, settings.s3.master_port, settings.s3.volume_port = filer, master, volume
    settings.sign.responders_port = responders
    # No limit is raised for the long scan: a document's OCR and task limits grow with its pages
    # (pipeline.app.doc_limits; 500 pages fit under the default visibility timeout).
    pki = init_test_pki(home / "pki", port=responders)
    write_settings(use_test_pki(settings, pki))
    settings = load_settings(home, environ={})
    try:
        status = services_up(settings)
        settings = load_settings(home, environ={})  # with the credentials `services up` generated
        log.info("services up under %s: worker pid %s, %s pool processes", home, status["worker"]["pid"],
                 settings.services.worker_concurrency or os.cpu_count())
        yield Instance(home, clean_env(ARCHIVE_HOME=str(home)), int(status["redis"]["pid"]),
                       int(status["worker"]["pid"]))
    finally:
        services_down(settings)
        log.info("services stopped: %s", {k: v.get("running") for k, v in services_status(settings).items()})
