"""Resource limits (issue 14): a document's work folder — and the temporary files of the programs it runs — is gone
after it is archived, quarantined or failed; folders of processes killed outright are swept (also when a worker
starts); a disk without room fails the document with a clear reason ("disk full at …"), keeps it in its batch, never
quarantines it, and `archive batch resume` archives it once there is room. Real S3 server, real tools, real disks:
the low-disk case raises the threshold above the real free space, the mid-write case fills a real tmpfs."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.app import workspace
from pipeline.app.batch_resume import resume_batch
from pipeline.app.batches import ingest_batch
from pipeline.app.context import Context
from pipeline.app.outages import describe
from pipeline.app.process import is_transient
from pipeline.app.users import operator
from pipeline.core.settings import Settings, load_settings, write_settings
from pipeline.core.vocabulary import DocState
from pipeline.tools.run import run
from tests.conftest import free_port, running_s3

ARCHIVE = str(Path(sys.executable).parent / "archive")
HEADER = "path,doc_number,doc_type,title,issuer,issued_date,signer,unit,classification,language\n"


@pytest.fixture(scope="module")
def own_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A home with its own S3 server (a test stops and restarts it), signing off, in-process ingest."""

    def tweak(settings: Settings) -> None:
        settings.sign.enabled = False
        settings.executor = "local"
        settings.intake.min_free_mb = 1  # the real disk may be small; the low-disk test raises it on purpose

    with running_s3(tmp_path_factory.mktemp("workspace-home"), tweak) as settings:
        yield settings


def _with(settings: Settings, **intake: int) -> Settings:
    copy = settings.model_copy(deep=True)
    for key, value in intake.items():
        setattr(copy.intake, key, value)
    return copy


def _leftovers(settings: Settings) -> list[str]:
    work = settings.work_dir
    return sorted(str(p.relative_to(work)) for p in work.rglob("*")) if work.exists() else []


class AtStage:
    """Observer that calls ``action`` once when ``source`` reaches ``stage`` (a real outage)."""

    def __init__(self, source: str, stage: str, action: Callable[[], object]) -> None:
        self.source, self.at, self.action, self.fired = source, stage, action, False

    def planned(self, plan: object) -> None:
        pass

    def stage(self, source: str, stage: str) -> None:
        if (source, stage) == (self.source, self.at) and not self.fired:
            self.fired = True
            self.action()

    def done(self, outcome: object) -> None:
        pass


def _born_digital(path: Path, text: str) -> Path:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    return make_born_digital_pdf([text], path)


# ---- temporary space ---------------------------------------------------------------------------------------
def test_tools_of_a_document_write_their_temporary_files_in_its_folder(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    folder = workspace.create(settings, "abcdef012345")
    assert folder.parent == settings.work_dir and oct(folder.stat().st_mode & 0o777) == "0o700"
    assert re.match(rf"^doc\.[A-Za-z0-9-]+\.{os.getpid()}\.abcdef012345\.[a-z0-9_]{{8}}$", folder.name)
    made = Path(run(["sh", "-c", "mktemp"], timeout=10, check=True).stdout.strip())  # a real program's temp file
    assert made.parent == folder and made.is_file()
    workspace.remove(folder)
    assert not folder.exists()
    assert run(["sh", "-c", 'echo "${TMPDIR:-unset}"'], timeout=10).stdout.strip() != str(folder)


def test_nothing_is_left_after_archived_quarantined_and_failed_documents(
        own_s3: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.devtools.samples.hostile import scan
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    parent_tmp = tmp_path / "parent-tmp"  # the ingesting process's own TMPDIR: no tool may write there
    parent_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(parent_tmp))
    batch = tmp_path / "lo-don-dep"
    _born_digital(batch / "cong-van.pdf", "Công văn số 7 về lưu trữ hồ sơ điện tử.")
    scan(batch / "ho-so-tieng-phap" / "page1.png")  # OCR in a language Tesseract lacks: quarantined at ocr
    (batch / "manifest.csv").write_text(HEADER + "ho-so-tieng-phap,1/TB,Thông báo,Thông báo,UBND,2026-01-02,,VP,"
                                        "public,fra\n", encoding="utf-8")
    with Context(own_s3) as ctx:
        report = ingest_batch(ctx, operator(ctx), batch, executor="local")
    statuses = {d.source: (d.status, d.stage) for d in report.documents}
    assert statuses == {"cong-van.pdf": ("archived", ""), "ho-so-tieng-phap": ("quarantined", "ocr")}, report.to_dict()
    assert _leftovers(own_s3) == [] and list(parent_tmp.iterdir()) == []

    failing = tmp_path / "lo-mat-kho"
    _born_digital(failing / "bao-cao.pdf", "Báo cáo số 3 về kho lưu trữ.")
    with Context(own_s3) as ctx:
        try:  # the S3 server stops while the document is being stored: failed, retried later
            report = ingest_batch(ctx, operator(ctx), failing, executor="local",
                                  observer=AtStage("bao-cao.pdf", "store", lambda: stop_s3(own_s3)))
        finally:
            start_s3(own_s3)
    assert [(d.source, d.status) for d in report.documents] == [("bao-cao.pdf", "failed")], report.to_dict()
    assert _leftovers(own_s3) == [] and list(parent_tmp.iterdir()) == []


def _killed_owner(settings: Settings) -> Path:
    """A work folder of a real process killed with SIGKILL in the middle of its document."""
    code = ("import sys, time; from pathlib import Path; from pipeline.app import workspace; "
            "from pipeline.core.settings import load_settings; "
            "p = workspace.create(load_settings(Path(sys.argv[1]), environ={}), 'f00dfeed0000'); "
            "(p / 'ocr-tmp').mkdir(); (p / 'ocr-tmp' / 'page1.tif').write_bytes(b'0' * 4096); "
            "print(p, flush=True); time.sleep(600)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    proc = subprocess.Popen([sys.executable, "-c", code, str(settings.home)], stdout=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout is not None
    folder = Path(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert (folder / "ocr-tmp" / "page1.tif").is_file()
    return folder


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_sweep_removes_only_folders_of_processes_that_are_gone(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    killed = _killed_owner(settings)
    live = workspace.create(settings, "live")  # this process: alive
    host, work = killed.name.split(".")[1], settings.work_dir
    alive = subprocess.Popen(["sleep", "60"])  # another process of this host, alive, started before its folder
    others = [work / "doc.another-host.12345.abc.abcd1234",  # a shared work disk: another host's process
              work / f"doc.{host}.{alive.pid}.busy.abcd1234",
              work / "report-abcd1234", work / "page-image-abcd1234"]  # not documents' folders
    for folder in others:
        folder.mkdir()
    reused = subprocess.Popen(["sleep", "60"])  # alive, but started after its folder was last touched: pid reused
    try:
        (work / f"doc.{host}.{reused.pid}.old.abcd1234").mkdir()
        assert workspace.sweep(settings) == []  # all too young: a process may have just started its document
        for folder in [killed, live, *others, work / f"doc.{host}.{reused.pid}.old.abcd1234"]:
            _age(folder, 3600)
        _age(others[1], 0)  # touched now, after its process started
        time.sleep(2)
        assert sorted(workspace.sweep(settings, stale_after_s=1)) == sorted(
            [killed, work / f"doc.{host}.{reused.pid}.old.abcd1234"])
    finally:
        for proc in (alive, reused):
            proc.kill()
            proc.wait()
    assert not killed.exists() and live.is_dir() and all(p.is_dir() for p in others)
    workspace.remove(live)


def test_a_starting_worker_sweeps_the_folders_of_killed_processes(tmp_path: Path) -> None:
    """A real `archive worker` (its broker not up yet: the sweep comes before the pool and the connection)."""
    settings = load_settings(tmp_path, environ={})
    settings.redis.port = free_port()  # nothing listens: the worker keeps trying to connect
    settings.redis.message_key = "k" * 64
    write_settings(settings)
    killed = _killed_owner(settings)
    _age(killed, 3600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {"ARCHIVE_HOME": str(tmp_path)}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([ARCHIVE, "worker", "--concurrency", "1", "--loglevel", "warning"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while killed.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.5)
        assert not killed.exists(), log.read_text()
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert f"work folder(s) left by processes that are gone: {killed.name}" in log.read_text()


# ---- disk full ---------------------------------------------------------------------------------------------
def test_too_little_free_space_fails_the_document_and_resume_archives_it(own_s3: Settings, tmp_path: Path) -> None:
    batch = tmp_path / "lo-dia-day"
    source = _born_digital(batch / "quyet-dinh.pdf", "Quyết định số 15 về lưu trữ điện tử.")
    own_s3.work_dir.mkdir(parents=True, exist_ok=True)
    needed = int(workspace.free_mb(own_s3.work_dir)) + 100_000  # more than this disk has: a real condition
    with Context(_with(own_s3, min_free_mb=needed)) as ctx:
        report = ingest_batch(ctx, operator(ctx), batch, executor="local")
        journal = ctx.catalog.batch_items(report.batch_id)
        quarantined = ctx.store.list_quarantine(report.batch)
    (outcome,) = report.documents
    assert outcome.status == "failed" and not report.ok, report.to_dict()
    said = re.escape(f"disk full at {own_s3.work_dir}: ")
    assert re.fullmatch(rf"{said}\d+ MB free, {needed} MB needed; input left in the batch", outcome.reason)
    assert source.is_file() and quarantined == [] and _leftovers(own_s3) == []
    assert [(i.source_path, i.state) for i in journal] == [("quyet-dinh.pdf", DocState.FAILED)]

    with Context(own_s3) as ctx:  # room again (min_free_mb back to 1)
        resumed = resume_batch(ctx, operator(ctx), report.batch_id)
    assert resumed.unfinished == 0 and [(d.source, d.status) for d in resumed.report.documents] == [
        ("quyet-dinh.pdf", "archived")], resumed.to_dict()


def test_disk_full_is_an_outage_in_the_users_terms(tmp_path: Path) -> None:
    full = workspace.DiskFull(tmp_path, 120.4, 500)
    assert str(full) == f"disk full at {tmp_path}: 120 MB free, 500 MB needed" and full.errno == errno.ENOSPC
    assert is_transient(full) and describe(full, 3, 8) == "disk full, retrying 3/8"
    assert is_transient(RuntimeError("wrapped")) is False


def _big_born_digital(out: Path) -> Path:
    """A one-page born-digital PDF of ~6 MB (an incompressible photo on the page): more than the tmpfs holds."""
    from PIL import Image

    from pipeline.devtools.samples.pdfs import _new_fpdf, _write_text_page

    photo = out.with_suffix(".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3)).save(photo, dpi=(200, 200))
    pdf = _new_fpdf("Bản đồ")
    _write_text_page(pdf, ["Bản đồ địa chính xã Tà Nung, tỷ lệ 1:2000, kèm ảnh chụp hiện trạng."], "Bản đồ")
    pdf.image(str(photo), x=10, y=60, w=100)
    pdf.output(str(out))
    photo.unlink()
    return out


@pytest.fixture()
def tiny_disk(own_s3: Settings, tmp_path: Path) -> Iterator[Settings]:
    """``own_s3`` with its work folder on a real 3 MB tmpfs (root only: mount)."""
    settings = own_s3.model_copy(deep=True)
    settings.home = tmp_path / "home"
    settings.work_dir.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(settings.work_dir)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield settings
    finally:
        subprocess.run(["umount", str(settings.work_dir)], check=True)


def test_disk_filling_up_mid_document_is_failed_with_a_clear_reason(tiny_disk: Settings, tmp_path: Path) -> None:
    """Without it, the full disk showed as the input's fault: quarantined "cannot be rewritten (damaged PDF)"."""
    batch = tmp_path / "lo-anh-lon"
    source = _big_born_digital(batch / "ban-do.pdf")
    with Context(tiny_disk) as ctx:
        report = ingest_batch(ctx, operator(ctx), batch, executor="local")
        quarantined = ctx.store.list_quarantine(report.batch)
    (outcome,) = report.documents
    assert outcome.status == "failed", report.to_dict()
    said = re.escape(f"disk full at {tiny_disk.work_dir}: ")
    assert re.fullmatch(rf"{said}\d+ MB free, ran out while the document was processed; input left in the batch",
                        outcome.reason), outcome.reason
    assert source.is_file() and quarantined == [] and _leftovers(tiny_disk) == []


# ---- memory ------------------------------------------------------------------------------------------------
def test_pool_processes_are_replaced_above_the_memory_bound(tmp_path: Path) -> None:
    """Celery's own check after each task (worker_max_memory_per_child, in KiB); 0 turns it off."""
    from pipeline.entry import worker as tasks

    settings = load_settings(tmp_path, environ={})
    assert settings.redis.worker_max_memory_mb == 1536
    tasks.configure(settings)
    assert tasks.app.conf.worker_max_memory_per_child == 1536 * 1024
    settings.redis.worker_max_memory_mb = 0
    tasks.configure(settings)
    assert tasks.app.conf.worker_max_memory_per_child is None
