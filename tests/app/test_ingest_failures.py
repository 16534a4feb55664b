"""Regressions: an ingest whose documents end `failed` (storage went down) or `pending` (the wait ran out) must
say so and exit non-zero; today's code exited 0."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.app.batches import ingest_batch
from pipeline.app.context import Context
from pipeline.app.users import operator
from pipeline.core.settings import Settings, load_settings, write_settings
from tests.conftest import s3_test_settings


class StopStorageWhenPlanned:
    """Observer that stops the S3 server right after the batch is planned and the bucket checked."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def planned(self, plan: object) -> None:
        from pipeline.devtools.services.s3local import stop_s3

        stop_s3(self.settings)

    def stage(self, source: str, stage: str) -> None:
        pass

    def done(self, outcome: object) -> None:
        pass


@pytest.fixture()
def own_s3(tmp_path: Path):
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    settings = s3_test_settings(tmp_path)
    settings.sign.enabled = False
    start_s3(settings)
    yield settings
    stop_s3(settings)


def test_storage_down_mid_batch_ends_failed_and_keeps_the_input(own_s3: Settings, tmp_path: Path) -> None:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    batch = tmp_path / "lo-hong-kho"
    make_born_digital_pdf(["Công văn số 12 về lưu trữ điện tử."], batch / "cong-van.pdf")
    with Context(own_s3) as ctx:
        report = ingest_batch(ctx, operator(ctx), batch, executor="local",
                              observer=StopStorageWhenPlanned(own_s3))
        journal = ctx.catalog.batch_items(report.batch_id)
    assert report.count("failed") == 1 and report.unfinished == 1 and not report.ok
    assert "not reachable" in report.documents[0].reason and "left in the batch" in report.documents[0].reason
    assert (batch / "cong-van.pdf").is_file()
    assert [(i.source_path, i.state) for i in journal] == [("cong-van.pdf", "failed")]


def test_report_counts_failed_and_pending_as_unfinished() -> None:
    """What the CLI bases its exit code on."""
    from pipeline.app.batches import IngestReport
    from pipeline.app.process import DocumentOutcome

    report = IngestReport(batch="b", documents=[DocumentOutcome("a.pdf", "archived"),
                                                DocumentOutcome("b.pdf", "pending"),
                                                DocumentOutcome("c.pdf", "failed")])
    assert report.unfinished == 2 and report.not_archived == 2 and not report.ok


def test_cli_ingest_with_storage_down_is_one_line_within_seconds(tmp_path: Path) -> None:
    import os
    import sys
    import time

    settings = s3_test_settings(tmp_path)  # ports chosen, server never started
    write_settings(settings)
    (tmp_path / "batch").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {"ARCHIVE_HOME": str(tmp_path)}
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "archive"), "ingest", str(tmp_path / "batch"),
                           "--local"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"archive: error: S3 server at {load_settings(tmp_path, environ={}).s3.endpoint} is not reachable: "
        "run `archive services up`"], proc.stderr
    assert time.monotonic() - started < 10
