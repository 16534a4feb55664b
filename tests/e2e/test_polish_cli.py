"""The CLI tried as a new user would (regressions of the records-system core issue), on the real instance.
Runs after test_ingest_e2e.py (file order), whose statistics assume only its own batch is archived."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.devtools.samples.pdfs import make_born_digital_pdf

from .conftest import ARCHIVE, Instance

pytestmark = pytest.mark.slow


def test_bare_command_prints_help_and_version(instance: Instance) -> None:
    bare = instance.run()
    assert bare.returncode == 0 and "Usage:" in bare.stdout and "ingest" in bare.stdout
    assert instance.run("--version").stdout.startswith("archive ")
    helptext = instance.run("search", "--help").stdout
    assert "--json " in helptext and "<bool>" not in helptext and "BOOLEAN" not in helptext


def test_ingest_exits_1_when_documents_are_still_pending(instance: Instance, tmp_path: Path) -> None:
    batch = tmp_path / "lo-cho"
    make_born_digital_pdf(["Thông báo lịch họp giao ban tuần, bản chờ xử lý."], batch / "lich-hop.pdf")
    proc = instance.run("ingest", str(batch), "--wait", "0", check=False)
    assert proc.returncode == 1
    assert "1 still pending" in proc.stderr, proc.stderr


def test_empty_batch_is_a_warning(instance: Instance, tmp_path: Path) -> None:
    (tmp_path / "rong").mkdir()
    proc = instance.run("ingest", str(tmp_path / "rong"), "--local", check=False)
    assert proc.returncode == 0 and "holds no documents" in proc.stderr


@pytest.fixture(scope="module")
def own_doc(instance: Instance, tmp_path_factory: pytest.TempPathFactory) -> str:
    batch = tmp_path_factory.mktemp("polish") / "lo-cli"
    make_born_digital_pdf(["Báo cáo tổng kết công tác văn thư lưu trữ năm 2026."], batch / "bao-cao.pdf")
    (doc,) = instance.run_json("ingest", str(batch), "--local")["documents"]
    assert doc["status"] == "archived"
    return str(doc["id"])


def test_get_refuses_to_overwrite_and_verify_names_a_missing_file(instance: Instance, own_doc: str,
                                                                   tmp_path: Path) -> None:
    doc_id = own_doc
    target = tmp_path / "ban-sao.pdf"
    target.write_bytes(b"keep me")
    refused = instance.run("get", doc_id, "-o", str(target), check=False)
    assert refused.returncode == 1 and "--force" in refused.stderr and target.read_bytes() == b"keep me"
    assert instance.run("get", doc_id, "-o", str(target), "--force").returncode == 0
    assert target.read_bytes().startswith(b"%PDF")
    missing = instance.run("verify", str(tmp_path / "khong-co.pdf"), check=False)
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_search_page_past_the_end_says_so(instance: Instance, own_doc: str) -> None:
    proc = instance.run("search", "bao cao tong ket cong tac van thu", "--page", "50")
    assert "past the end" in proc.stdout


def test_worker_beat_runs_the_scheduler(instance: Instance, tmp_path: Path) -> None:
    log = tmp_path / "beat.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([ARCHIVE, "worker", "--beat", "--queues", "renew", "--concurrency", "1",
                                 "--loglevel", "info"], env=instance.env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "beat: Starting" not in log.read_text(errors="replace"):
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert "beat: Starting" in log.read_text(errors="replace")
