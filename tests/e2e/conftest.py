"""A whole local instance for end-to-end tests: its own ARCHIVE_HOME, Redis and S3 server on free loopback
ports (started through `archive services up`), a test PKI, and a real Celery worker process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.core.settings import Settings, load_settings, write_settings
from tests.conftest import free_s3_ports

ARCHIVE = str(Path(sys.executable).parent / "archive")


@dataclass
class Instance:
    home: Path
    settings: Settings
    env: dict[str, str]

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([ARCHIVE, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"archive {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def run_json(self, *args: str, check: bool = True) -> object:
        return json.loads(self.run(*args, "--json", check=check).stdout)


def _wait_for_worker(instance: Instance, worker: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    """Wait through the product's own check (:func:`~pipeline.entry.worker_client.require_worker` behind
    :class:`~pipeline.app.outages.Patience`): after a Redis restart (tests/e2e/test_faults.py) this process's
    pooled connections must recover as a long-running API process's do."""
    from pipeline.app.outages import Patience
    from pipeline.entry import worker_client

    worker_client.configure(instance.settings)
    patience = Patience(instance.settings, lambda _message: None)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited {worker.returncode}:\n{log.read_text()[-3000:]}")
        try:
            patience.call(lambda: worker_client.require_worker(timeout_s=1.0))
            return
        except RuntimeError as exc:  # no worker answers yet; anything else is a failure of the test
            if "no Celery worker answers" not in str(exc):
                raise
    raise RuntimeError(f"worker did not answer within {timeout_s}s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_worker(instance: Instance, concurrency: int,
                   queues: str = "ocr,index,renew") -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker process of ``instance`` (log in its home) consuming ``queues``, answering pings before
    this yields; stopped (SIGTERM, then SIGKILL after 30 s) with its whole process group afterwards."""
    log = instance.home / "worker.log"
    with log.open("ab") as log_fh:  # appended: a later worker keeps an earlier one's log for diagnosis
        worker = subprocess.Popen([ARCHIVE, "worker", "--concurrency", str(concurrency), "--loglevel", "info",
                                   "--queues", queues],
                                  env=instance.env, stdout=log_fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_worker(instance, worker, log)
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


@contextmanager
def local_instance(tmp_path_factory: pytest.TempPathFactory, name: str = "archive-home",
                   tweak: Callable[[Settings], None] | None = None) -> Iterator[Instance]:
    """A whole instance with its services up (no worker: see :func:`running_worker`); ``tweak`` adjusts its
    settings before they are written. Its services are stopped afterwards."""
    from pipeline.devtools import init_test_pki
    from pipeline.devtools.services.manager import services_down, services_up
    from pipeline.devtools.testconfig import use_test_pki

    home = tmp_path_factory.mktemp(name)
    redis_port, s3_port, filer, master, volume, responders = free_s3_ports(6)
    env = {**os.environ, "ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    env = {k: v for k, v in env.items() if not (k.startswith("ARCHIVE_") and k != "ARCHIVE_HOME")}
    settings = load_settings(home, environ={})
    settings.redis.port = redis_port
    settings.s3.endpoint = f"127.0.0.1:{s3_port}"
    settings.s3.filer_port, settings.s3.master_port, settings.s3.volume_port = filer, master, volume
    settings.sign.responders_port = responders
    settings.services.local_worker = False  # the tests run their own worker
    # Workers read batches from the intake roots only: the tests' batches live in pytest's temporary folders.
    settings.intake.roots = [str(tmp_path_factory.getbasetemp())]
    if tweak is not None:
        tweak(settings)
    pki = init_test_pki(home / "pki", port=responders)
    write_settings(use_test_pki(settings, pki))
    services_up(load_settings(home, environ={}))
    settings = load_settings(home, environ={})  # with the credentials `services up` generated
    try:
        yield Instance(home, settings, env)
    finally:
        services_down(settings)


@pytest.fixture(scope="session")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    with local_instance(tmp_path_factory) as inst, running_worker(inst, concurrency=2):
        yield inst
