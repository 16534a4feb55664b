"""Nothing silently skipped (issue 10): every file of a batch ends in the ingest report — archived, duplicate,
quarantined, or skipped with a reason — in the journal, the CLI table and `--json`; skipped files never make
the ingest fail. Real files, a real S3 server, ingested in-process with the local executor."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.app.conftest import HEADER, Home


@pytest.fixture(scope="module")
def odd_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf, make_corrupt_pdf
    from pipeline.devtools.samples.render import render_scanned_pages

    root = tmp_path_factory.mktemp("odd") / "lo-an"
    make_born_digital_pdf(["Quyết định số 5 về lưu trữ tài liệu ẩn."], root / ".an.pdf", title="Quyết định ẩn")
    make_born_digital_pdf(["Công văn số 7 về số hóa hồ sơ."], root / "cong-van.pdf", title="Công văn")
    make_corrupt_pdf(root / "hong.pdf")
    pages = render_scanned_pages(["Biên bản họp giao ban tháng mười một."], root.parent / "pages", dpi=200)
    (root / ".quet").mkdir()
    (root / ".quet" / "page1.png").write_bytes(pages[0].read_bytes())
    (root / ".quet" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0 thumbnail cache")
    (root / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0 thumbnail cache")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00\x00")
    (root / "~$bien-ban.docx").write_bytes(b"\x07operator")
    (root / "manifest.csv").write_text(
        HEADER + ".an.pdf,05/QĐ-UBND,Quyết định,Lưu trữ tài liệu,UBND,2026-01-02,,Văn phòng,public,\n",
        encoding="utf-8")
    return root


def _files(root: Path) -> set[str]:
    return {(Path(d) / f).relative_to(root).as_posix() for d, _, fs in os.walk(root) for f in fs}


def _covered(path: str, sources: set[str]) -> bool:
    return path in sources or any(path.startswith(s + "/") for s in sources)  # a folder document covers its pages


def test_every_file_of_the_batch_is_reported(home: Home, odd_batch: Path) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), odd_batch, executor="local")
        journal = {i.source_path: i for i in ctx.catalog.batch_items(report.batch_id)}

    rows = {d.source: d for d in report.documents}
    status = {s: d.status for s, d in rows.items()}
    assert status == {".an.pdf": "archived", "cong-van.pdf": "archived", ".quet": "archived",
                      "hong.pdf": "quarantined", "Thumbs.db": "skipped", ".quet/Thumbs.db": "skipped",
                      ".DS_Store": "skipped", "~$bien-ban.docx": "skipped"}, report.to_dict()
    # nothing silently dropped: every file under the batch folder but the manifest has its row
    assert {f for f in _files(odd_batch) if not _covered(f, set(rows))} == {"manifest.csv"}
    assert report.manifest == "manifest.csv" and report.to_dict()["manifest"] == "manifest.csv"
    assert rows["Thumbs.db"].reason == ("tệp hệ thống của hệ điều hành (Thumbs.db): bỏ qua / "
                                        "operating-system file (Thumbs.db): skipped")
    assert "Office" in rows["~$bien-ban.docx"].reason
    assert all(rows[s].reason and "\n" not in rows[s].reason for s in status if status[s] == "skipped")
    assert report.to_dict()["summary"] == {"archived": 3, "duplicate": 0, "quarantined": 1, "skipped": 4,
                                           "failed": 0, "pending": 0}
    assert report.unfinished == 0 and report.not_archived == 1  # only the corrupt PDF counts against the batch
    # journalled like the others, with the same reasons
    assert {s: i.state.value for s, i in journal.items()} == status
    assert journal[".DS_Store"].reason == rows[".DS_Store"].reason and journal[".DS_Store"].state.final
    # the hidden PDF is a real document: archived with its manifest metadata
    with home.context() as ctx:
        record = ctx.store.get_record(rows[".an.pdf"].id)
    assert record.metadata.doc_number == "05/QĐ-UBND"


def test_skipped_files_alone_do_not_fail_the_cli(home: Home, odd_batch: Path, tmp_path: Path) -> None:
    only_junk = tmp_path / "lo-rac"
    only_junk.mkdir()
    (only_junk / "Thumbs.db").write_bytes(b"cache")
    (only_junk / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    proc = home.run("ingest", str(only_junk), "--local", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {d["source"]: d["status"] for d in report["documents"]} == {"Thumbs.db": "skipped", ".DS_Store": "skipped"}
    assert report["summary"]["skipped"] == 2
    assert "holds no documents" in proc.stderr  # warned, not failed

    table = home.run("ingest", str(only_junk), "--local")
    assert table.returncode == 0, table.stderr
    assert "skipped" in table.stdout and "Thumbs.db" in table.stdout and "2 skipped" in table.stdout
