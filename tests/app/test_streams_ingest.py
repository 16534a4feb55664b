"""Issue 15, done-when: a three-document stream with QR separator sheets is archived as the right three documents
with the sheets' metadata, its blank page dropped and recorded, each document's own pages kept as its original;
a 150-dpi page is flagged (or its document refused when configured); a worker re-checks a stream document's pages
against its content. Real files, a real S3 server, the local executor and the workers' message checks."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pikepdf
import pytest
import zxingcpp
from PIL import Image

from pipeline.core.vocabulary import Classification
from pipeline.devtools.samples.render import render_page
from pipeline.scan.separator import PREFIX
from tests.app.conftest import Home
from tests.scan.streams_helpers import META, stream_pages, write_stream


@pytest.fixture(scope="module")
def stream_batch(home: Home, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = home.settings.intake_roots[0] / "hop-01"  # inside the intake root: the workers' checks apply
    root.mkdir(parents=True)
    write_stream("App_BpCpp", root / "luong.pdf", "pdf")
    (root / "thap").mkdir()
    stream_pages("p", tmp_path_factory.mktemp("low"), dpi=150)[0].save(root / "thap" / "page1.png", dpi=(150, 150))
    (root / "tieng-anh").mkdir()  # read with the Vietnamese model, few of its words are Vietnamese syllables
    render_page("The quick brown fox jumps over the lazy dog while the clerk scans twelve boxes of old "
                "letters from the provincial office", dpi=200).save(root / "tieng-anh" / "page1.png", dpi=(200, 200))
    return root


def test_a_stream_is_archived_as_its_documents_with_the_sheets_metadata(home: Home, stream_batch: Path) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), stream_batch, executor="local")
        status = {d.source: d.status for d in report.documents}
        assert status == {"luong.pdf#1": "archived", "luong.pdf#2": "archived", "luong.pdf#3": "archived",
                          "thap": "archived", "tieng-anh": "archived"}, report.to_dict()
        flagged = {d.source: d.rescan for d in report.documents if d.rescan}
        assert list(flagged) == ["tieng-anh"] and flagged["tieng-anh"][0].startswith("page 1: ")
        assert "syllable" in flagged["tieng-anh"][0] or "confidence" in flagged["tieng-anh"][0]
        assert (report.separators, report.blank_pages) == (3, 1)
        rows = {d.source: d for d in report.documents}
        assert rows["luong.pdf#1"].warnings == ["1 blank page(s) dropped: 4"]
        assert rows["thap"].warnings == ["page1.png: 150 dpi is below the 200 dpi minimum"]
        records = {d.source: ctx.store.get_record(d.id) for d in report.documents}
        first, second, third = (records[f"luong.pdf#{k}"] for k in (1, 2, 3))
        assert (first.metadata.doc_number, first.metadata.classification) == ("45/2020/QĐ-UBND", Classification.MAT)
        assert (first.metadata.dossier_code, first.metadata.order_in_dossier) == ("G01.2020.05", 3)
        assert second.metadata.title == META["B"].title and third.metadata.doc_number == "7/BC-SNV"
        assert [r.page_count for r in (first, second, third)] == [2, 1, 2]
        assert (first.source.pages, first.source.blank_pages, first.source.separator_page) == ([2, 3], [4], 1)
        assert (third.source.pages, third.source.separator_page) == ([8, 9], 7)
        assert "Quy chế" in "\n".join(ctx.store.get_bytes(p.text_key).decode() for p in first.pages) or \
            "lưu trữ" in "\n".join(ctx.store.get_bytes(p.text_key).decode() for p in first.pages)
        # its own pages, the blank back included, are its original: not the whole stream
        (original,) = [a for role, a in first.artefacts.items() if role.startswith("original/")]
        assert original.key.endswith("luong-1.pdf")
        with pikepdf.open(io.BytesIO(ctx.store.get_bytes(original.key))) as pdf:
            assert len(pdf.pages) == 3
        assert any(c.startswith("storage profile standard") for c in first.representation_note.changes)
        store = next(e for e in first.events if e.stage == "store")  # its timer closes after the uploads
        assert first.archived_at is not None and store.finished_at >= first.archived_at > store.started_at
        intake = next(e for e in first.events if e.stage == "intake")
        assert intake.detail["separator"]["doc_number"] == "45/2020/QĐ-UBND" and intake.detail["blank_pages"] == [4]

        shown = home.run("show", first.id)
        assert shown.returncode == 0, shown.stderr
        said = " ".join(shown.stdout.replace("│", " ").split())  # the table's cells, unwrapped
        assert "hop-01/luong.pdf#1 (after the separator sheet on page 1; pages 2-3 of the input; blank pages " \
               "dropped: 4)" in said

        again = ingest_batch(ctx, resolve_actor(ctx, None), stream_batch, executor="local")
        assert {d.source: d.status for d in again.documents} == {s: "duplicate" for s in status}  # exactly once


def test_a_page_below_the_minimum_is_refused_when_configured(home: Home, stream_batch: Path) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor

    folder = stream_batch.parent / "hop-02"
    (folder / "thap-2").mkdir(parents=True)
    stream_pages("pp", folder.parent / ".w", dpi=150)[1].save(folder / "thap-2" / "page1.png", dpi=(150, 150))
    code = zxingcpp.create_barcode(PREFIX + '{"classification":"tuyet-mat-x"}', zxingcpp.BarcodeFormat.QRCode)
    sheet = Image.new("L", (1654, 2339), 235)  # a sheet whose code is ours but names no classification
    sheet.paste(Image.fromarray(np.asarray(code.to_image(scale=8))), (200, 200))
    first, second = stream_pages("pp", folder.parent / ".w")
    first.save(folder / "luong.tif", save_all=True, append_images=[sheet, second], dpi=(200, 200))
    shutil.rmtree(folder.parent / ".w")
    with home.context() as ctx:
        ctx.settings.scan.low_dpi = "refuse"
        report = ingest_batch(ctx, resolve_actor(ctx, None), folder, executor="local", profile="archival")
        kept = ctx.store.get_record(next(d.id for d in report.documents if d.source == "luong.tif#1"))
        entries = {e["details"]["source"]: e for e in ctx.store.list_quarantine(report.batch)}
    outcomes = {d.source: d for d in report.documents}
    assert {s: d.status for s, d in outcomes.items()} == {"thap-2": "quarantined", "luong.tif#1": "archived",
                                                        "luong.tif#2": "quarantined"}
    assert outcomes["thap-2"].reason == ("intake: page1.png: scanned at 150 dpi, below the 200 dpi minimum "
                                         "(Circular 02/2019/TT-BNV): scan it again")
    assert "classification 'tuyet-mat-x' is not on the ladder" in outcomes["luong.tif#2"].reason
    assert set(entries) == {"thap-2", "luong.tif#2"}  # the stream's bytes are kept with the reason: nothing lost
    assert not any("storage profile" in c for c in kept.representation_note.changes)  # this batch: archival
    assert entries["luong.tif#2"]["name"] == "luong.tif#2/luong.tif" and entries["luong.tif#2"]["stored"]


def test_a_worker_checks_a_stream_documents_pages_against_its_content(home: Home, stream_batch: Path) -> None:
    from datetime import UTC, datetime

    from pipeline.app.messages import MessageRefused, admitted_document
    from pipeline.app.process import item_to_dict
    from pipeline.scan import plan_batch

    first = plan_batch(stream_batch).documents[0]
    args = {"actor": "system", "batch_id": "20261130T000000Z-0a1b2c3d", "batch": "hop-01",
            "received_at": datetime.now(UTC).isoformat(), "item": item_to_dict(first)}
    with home.context() as ctx:
        with admitted_document(ctx, args) as admitted:
            item = admitted.item
            assert (item.source_path, item.part, item.pages, item.dropped, item.page_count, item.doc_id) == \
                ("luong.pdf#1", 1, [1, 2], [3], 2, first.doc_id)
        forged = [("pages", [1, 2, 3], "both kept and dropped"), ("pages", [5, 6], "does not match the content"),
                  ("pages", [1, 99], "increasing page numbers"), ("part", 2, "must end with #2"),
                  ("dropped", [], "does not match the content"), ("pages", [], "at least one page"),
                  ("profile", "lossy", "profile: expected one of")]
        for key, value, reason in forged:
            bad = dict(args, item=dict(args["item"], **{key: value}))
            with pytest.raises(MessageRefused, match=reason), admitted_document(ctx, bad):
                pass
