"""Issue 12, metrics on real services: a known mix ingested in this process and in a separate `archive ingest
--local` process, then `archive metrics` (a third process) parsed with prometheus_client's own parser. The counts
are exact and summed over the processes (multiprocess mode); every series exists from the start, at 0; the
metrics directory is the owner's only; a process that dies mid-document leaves no document "in progress"."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipeline.core.settings import Settings
from tests.app.conftest import Home, build_home

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ROOT = Path(__file__).resolve().parents[2]


def _scrape(home: Home) -> tuple[Samples, dict[str, str]]:
    """`archive metrics`, parsed: (sample name, labels) → value, and family name → type."""
    proc = home.run("metrics")
    assert proc.returncode == 0, proc.stderr
    samples: Samples = {}
    types = {}
    for family in text_string_to_metric_families(proc.stdout):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, types


def _get(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def _documents(samples: Samples) -> dict[tuple[str, str], float]:
    return {(dict(k)["origin"], dict(k)["outcome"]): v for (n, k), v in samples.items()
            if n == "archive_documents_total"}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("metrics-home"), "metrics") as made:
        yield made


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_corrupt_pdf

    root = tmp_path_factory.mktemp("metrics-batches")
    first, second = root / "lo-so-lieu", root / "lo-tiep-theo"
    make_born_digital_pdf(["Báo cáo số liệu văn bản điện tử quý IV."], first / "bao-cao.pdf", title="Báo cáo")
    make_born_digital_pdf(["Công văn về việc số hoá tài liệu lưu trữ."], first / "cong-van.pdf", title="Công văn")
    shutil.copy(first / "bao-cao.pdf", first / "ban-sao.pdf")  # the same content twice in one batch
    make_corrupt_pdf(first / "hong.pdf")  # unreadable: quarantined at intake, its origin never known
    make_born_digital_pdf(["Thông báo lịch tiếp công dân."], second / "thong-bao.pdf", title="Thông báo")
    shutil.copy(first / "cong-van.pdf", second / "cong-van-lan-hai.pdf")  # archived by the first batch already
    return first, second


@pytest.fixture(scope="module")
def runs(home: Home, batches: tuple[Path, Path]) -> dict[str, Any]:
    """Before anything; after the first batch (ingested in this process); after the second (`archive ingest
    --local`, another process), the metrics directory loosened in between to see it tightened again."""
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor

    first, second = batches
    before, _ = _scrape(home)
    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), first, executor="local")
    after_first, _ = _scrape(home)
    metrics_dir = home.settings.home / "metrics"
    mode_after_first = stat.S_IMODE(metrics_dir.stat().st_mode)
    metrics_dir.chmod(0o750)
    proc = home.run("ingest", str(second), "--local", "--json")
    assert proc.returncode == 0, proc.stderr
    final, types = _scrape(home)
    return {"before": before, "first": report.to_dict(), "after_first": after_first, "second": json.loads(proc.stdout),
            "final": final, "types": types, "mode_after_first": mode_after_first}


def test_the_batches_went_as_planned(runs: dict[str, Any]) -> None:
    assert runs["first"]["summary"] == {"archived": 2, "duplicate": 1, "quarantined": 1, "skipped": 0, "failed": 0,
                                        "pending": 0}
    assert runs["second"]["summary"] == {"archived": 1, "duplicate": 1, "quarantined": 0, "skipped": 0, "failed": 0,
                                         "pending": 0}


def test_every_series_exists_at_zero_before_anything_happened(runs: dict[str, Any]) -> None:
    before = runs["before"]
    documents = _documents(before)
    assert len(documents) == 4 * 4 and set(documents.values()) == {0.0}  # 4 origins (unknown too) × 4 outcomes
    assert {_get(before, "archive_pages_total", origin=o) for o in ("scanned", "born_digital", "mixed")} == {0.0}
    for stage in ("ocr", "pdfa", "preserve", "sign", "store", "index"):
        assert _get(before, "archive_stage_duration_seconds_count", stage=stage) == 0
        assert _get(before, "archive_stage_duration_seconds_bucket", stage=stage, le="+Inf") == 0
    assert _get(before, "archive_failures_total", stage="intake") == 0
    assert _get(before, "archive_documents_in_progress") == 0


def test_documents_by_origin_and_outcome_are_exact(runs: dict[str, Any]) -> None:
    documents = _documents(runs["final"])
    expected = {("born_digital", "archived"): 3, ("born_digital", "duplicate"): 2, ("unknown", "quarantined"): 1}
    assert {k: v for k, v in documents.items() if v} == expected
    assert documents[("scanned", "quarantined")] == 0 and documents[("mixed", "failed")] == 0  # present, at zero
    assert runs["types"]["archive_documents"] == "counter"


def test_pages_count_the_archived_documents(runs: dict[str, Any]) -> None:
    archived = [d for r in (runs["first"], runs["second"]) for d in r["documents"] if d["status"] == "archived"]
    pages = sum(d["pages"] for d in archived)
    assert len(archived) == 3 and pages >= 3
    final = runs["final"]
    assert _get(final, "archive_pages_total", origin="born_digital") == pages
    assert _get(final, "archive_pages_total", origin="scanned") == 0


def test_stage_durations_come_from_each_archived_document(runs: dict[str, Any]) -> None:
    final = runs["final"]
    assert runs["types"]["archive_stage_duration_seconds"] == "histogram"
    for stage in ("pdfa", "sign", "store", "index"):  # born-digital: PDF/A without OCR, signed, stored, indexed
        count = _get(final, "archive_stage_duration_seconds_count", stage=stage)
        assert count == 3, stage
        assert _get(final, "archive_stage_duration_seconds_bucket", stage=stage, le="+Inf") == count
        assert _get(final, "archive_stage_duration_seconds_sum", stage=stage) > 0
    assert _get(final, "archive_stage_duration_seconds_count", stage="ocr") == 0


def test_failures_by_stage_and_the_quarantine(runs: dict[str, Any], home: Home) -> None:
    final = runs["final"]
    failures = {dict(k)["stage"]: v for (n, k), v in final.items() if n == "archive_failures_total"}
    assert failures == {s: 1.0 if s == "intake" else 0.0
                        for s in ("intake", "ocr", "pdfa", "preserve", "sign", "store", "index", "other")}
    with home.context() as ctx:
        in_storage = len(ctx.store.list_quarantine())
    assert in_storage == 1
    assert _get(final, "archive_quarantine_entries") == in_storage
    assert _get(final, "archive_collector_up", source="storage") == 1
    assert _get(final, "archive_legal_holds_active") == 0
    assert _get(final, "archive_documents_in_progress") == 0


def test_counts_of_other_processes_are_summed(runs: dict[str, Any], home: Home) -> None:
    """This process archived 2, the `archive ingest` process 1 more: `archive metrics` (a third) sees both."""
    assert _documents(runs["after_first"])[("born_digital", "archived")] == 2
    assert _documents(runs["final"])[("born_digital", "archived")] == 3
    from pipeline.app.metrics_files import process_ident

    counters = sorted(p.name for p in (home.settings.home / "metrics").glob("counter_*.db"))
    assert f"counter_{process_ident()}.db" in counters and len(counters) >= 2, counters
    # The CLI process dropped its live gauge on exit; ours is the only one left.
    assert [p.name for p in (home.settings.home / "metrics").glob("gauge_live*")] == [
        f"gauge_livesum_{process_ident()}.db"]


def test_metrics_directory_is_the_owners_only(runs: dict[str, Any], home: Home) -> None:
    assert runs["mode_after_first"] == 0o700
    metrics_dir = home.settings.home / "metrics"
    assert stat.S_IMODE(metrics_dir.stat().st_mode) == 0o700  # loosened in between, tightened again
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in metrics_dir.iterdir()}
    assert modes and set(modes.values()) == {0o600}, modes  # this process's umask is 022: chmod'ed anyway


def test_only_an_administrator_reads_the_metrics(runs: dict[str, Any], home: Home) -> None:
    assert home.run("user", "add", "nhan-vien", "--role", "staff", "--clearance", "public").returncode == 0
    proc = home.run("metrics", user="nhan-vien")
    assert proc.returncode == 1 and "may not read the metrics" in proc.stderr and not proc.stdout


def test_a_process_dead_mid_document_is_not_left_in_progress(runs: dict[str, Any], home: Home) -> None:
    """Killed without cleaning up (as a pool process killed for memory): its in-progress gauge stays until the
    next pool process of the host starts (worker_process_init) and drops the files of dead processes."""
    from pipeline.app.metrics_files import forget_dead_processes, process_ident

    code = ("import os, sys\nfrom pathlib import Path\nfrom pipeline.app import metrics\n"
            "from pipeline.core.settings import load_settings\n"
            "held = metrics.in_progress(load_settings(Path(sys.argv[1]), environ={}))\nheld.__enter__()\n"
            "print(os.getpid(), flush=True)\nos._exit(0)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(home.settings.home)], capture_output=True, text=True,
                          cwd=ROOT, env=home.env, timeout=120, check=True)
    dead = process_ident(int(proc.stdout.strip()))
    assert _get(_scrape(home)[0], "archive_documents_in_progress") == 1
    assert forget_dead_processes(home.settings.home / "metrics") == [dead]
    assert _get(_scrape(home)[0], "archive_documents_in_progress") == 0
    assert os.getpid() != int(proc.stdout.strip())
