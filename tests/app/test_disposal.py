"""Issue 11, approved disposal on the real S3 server: due documents are proposed, approved with a decision and
the appraisal council, then destroyed — every stored version of their content deleted (the storage allows it
because their retention has ended), the index forgets them, a sealed residual record stays — and a signed
PDF/A disposal record that `archive verify` accepts lists them. Held, permanent, not-yet-due, still-locked
and above-clearance documents are never destroyed. Old issue dates (2010) make documents due now; the storage
clock is never mocked; ``retention.safety_days`` is 0, so documents already past retention are not locked."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.archive.disposal import RunClaimed
from pipeline.core.settings import Settings, update_config
from tests.app.conftest import HEADER, Home, unlocked_home

ROWS = {  # file → (number, doc_type, issued, title, classification)
    "moi-hop-2010.pdf": ("11/GM-VP", "Giấy mời", "2010-01-05", "Mời họp giao ban quý một", "public"),
    "moi-tap-huan-2010.pdf": ("12/GM-VP", "Giấy mời", "2010-02-10", "Mời dự tập huấn văn thư", "public"),
    "moi-le-2010.pdf": ("18/GM-VP", "Giấy mời", "2010-04-30", "Mời dự lễ kỷ niệm thành lập", "public"),
    "moi-mat-2011.pdf": ("13/GM-VP", "Giấy mời", "2011-03-01", "Mời họp bàn phương án bảo vệ", "mat"),
    "quyet-dinh-2010.pdf": ("14/QĐ-VP", "Quyết định", "2010-03-01", "Ban hành quy chế lưu trữ", "public"),
    "cong-van-2025.pdf": ("15/VP", "Công văn", "2025-01-01", "Hướng dẫn lập hồ sơ điện tử", "public"),
    "to-trinh-2005.pdf": ("17/TTr-VP", "Tờ trình", "2005-04-01", "Đề nghị xây dựng kho lưu trữ", "public"),
}
DECISION = "Quyết định số 07/QĐ-VP ngày 20/11/2026 về việc hủy tài liệu hết giá trị"
COUNCIL = "Nguyễn Văn An (Chủ tịch); Trần Thị Bình; Lê Văn Cường"


def _make_batch(root: Path, rows: dict[str, tuple[str, str, str, str, str]]) -> Path:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    lines = [HEADER.strip()]
    for name, (number, doc_type, issued, title, level) in rows.items():
        make_born_digital_pdf([f"{doc_type} số {number}: {title}."], root / name, title=title)
        lines.append(f"{name},{number},{doc_type},{title},Văn phòng,{issued},,Văn phòng,{level},")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def _ingest(home: Home, batch: Path) -> dict[str, str]:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    return {d.source: d.id for d in report.documents}


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with unlocked_home(s3_server, tmp_path_factory.mktemp("disposal-home"), "disposal") as made:
        yield made


@pytest.fixture(scope="module")
def ids(home: Home, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    found = _ingest(home, _make_batch(tmp_path_factory.mktemp("disposal-batch") / "lo-huy", ROWS))
    assert home.run("user", "add", "luutru", "--role", "records-officer", "--clearance", "internal").returncode == 0
    assert home.run("user", "add", "nhanvien", "--role", "staff", "--clearance", "internal").returncode == 0
    return found


def _json(home: Home, *args: str, user: str = "luutru") -> Any:
    done = home.run(*args, "--json", user=user)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def executed(home: Home, ids: dict[str, str]) -> dict[str, Any]:
    """Proposed from the due list, approved, one document held after the approval, executed."""
    proposal = _json(home, "disposal", "propose", "--from-due", "--note", "Rà soát năm 2026")
    early = home.run("disposal", "execute", proposal["id"], user="luutru")
    refused = home.run("disposal", "approve", proposal["id"], "--decision", DECISION, "--council", COUNCIL,
                       user="nhanvien")
    approved = _json(home, "disposal", "approve", proposal["id"], "--decision", DECISION, "--council", COUNCIL,
                     "--exclude", ids["moi-le-2010.pdf"][:12])
    held = home.run("hold", "add", ids["moi-tap-huan-2010.pdf"][:12], "--reason", "Thanh tra", "--case", "TT-9")
    assert held.returncode == 0, held.stderr
    done = _json(home, "disposal", "execute", proposal["id"])
    return {"proposal": proposal, "early": early, "refused": refused, "approved": approved, "done": done}


def test_the_proposal_lists_only_due_documents_within_clearance(executed: dict[str, Any],
                                                                 ids: dict[str, str]) -> None:
    items = {i["id"]: i for i in executed["proposal"]["items"]}
    assert set(items) == {ids[n] for n in ("moi-hop-2010.pdf", "moi-tap-huan-2010.pdf", "moi-le-2010.pdf")}
    assert ids["moi-mat-2011.pdf"] not in items  # the Mật one: above the officer's clearance
    first = items[ids["moi-hop-2010.pdf"]]
    assert (first["retention_class"], first["retain_until"], first["action"]) == ("1.7", "2015-01-05", "destroy")
    assert "hết thời hạn bảo quản" in first["reason"] and len(first["sha256"]) == 64
    assert executed["proposal"]["state"] == "pending"


def test_nothing_is_destroyed_without_an_approval_by_a_records_officer(executed: dict[str, Any]) -> None:
    assert executed["early"].returncode == 1 and "approve it first" in executed["early"].stderr
    assert executed["refused"].returncode == 1 and "records-officer" in executed["refused"].stderr
    approved = executed["approved"]
    assert (approved["state"], approved["decision"], approved["approved_by"]) == ("approved", DECISION, "luutru")


def test_permanent_not_yet_due_and_held_documents_are_never_proposed(home: Home, ids: dict[str, str],
                                                                     executed: dict[str, Any]) -> None:
    for name, why in (("quyet-dinh-2010.pdf", "permanent record"), ("cong-van-2025.pdf", "retained until 2035"),
                      ("moi-tap-huan-2010.pdf", "on legal hold")):
        refused = home.run("disposal", "propose", ids[name][:12], user="luutru")
        assert refused.returncode == 1 and why in refused.stderr, (name, refused.stderr)


def test_execution_destroys_the_content_and_skips_what_was_held_after_approval(
        home: Home, ids: dict[str, str], executed: dict[str, Any]) -> None:
    done = executed["done"]
    outcomes = {i["id"]: (i["outcome"], i["outcome_reason"]) for i in done["items"]}
    assert done["state"] == "executed" and len(done["disposal_records"]) == 1
    assert outcomes[ids["moi-hop-2010.pdf"]][0] == "destroyed"
    assert outcomes[ids["moi-tap-huan-2010.pdf"]] == ("skipped", "put on legal hold after the approval: kept")
    assert outcomes[ids["moi-le-2010.pdf"]] == ("skipped", "excluded by the approval: kept")
    with home.context() as ctx:
        client, bucket = ctx.store.client, ctx.store.bucket
        gone = [(o.object_name, o.is_delete_marker) for o in client.list_objects(
            bucket, prefix=f"documents/{ids['moi-hop-2010.pdf']}/", recursive=True, include_version=True)]
        kept = [o.object_name for o in client.list_objects(
            bucket, prefix=f"documents/{ids['moi-tap-huan-2010.pdf']}/", recursive=True)]
        residual = ctx.store.get_record(ids["moi-hop-2010.pdf"])
    assert gone == [(f"documents/{ids['moi-hop-2010.pdf']}/metadata.json", False)]  # one version: the residual
    assert any(k.endswith("archive.pdf") for k in kept)
    assert residual.disposal is not None and residual.disposal.decision == DECISION
    assert residual.artefacts == {} and "archive.pdf" in residual.disposal.destroyed
    assert residual.metadata.title == ROWS["moi-hop-2010.pdf"][3]  # the metadata stays


def test_a_destroyed_document_is_gone_from_search_and_downloads_but_its_record_verifies(
        home: Home, ids: dict[str, str], executed: dict[str, Any], tmp_path: Path) -> None:
    doc = ids["moi-hop-2010.pdf"]
    hits = _json(home, "search", "giao ban quý một", user="nhanvien")
    assert doc not in {h["id"] for h in hits["hits"]}
    get = home.run("get", doc[:12], "-o", str(tmp_path / "x.pdf"), user="nhanvien")
    assert get.returncode == 1 and "was destroyed" in get.stderr and not (tmp_path / "x.pdf").exists()
    show = home.run("show", doc[:12], user="nhanvien")
    assert show.returncode == 0 and "DESTROYED" in show.stdout
    verified = home.run("verify", doc[:12])
    assert verified.returncode == 0 and "DISPOSED" in verified.stdout, verified.stdout + verified.stderr
    assert doc not in {d["id"] for d in _json(home, "retention", "due")}
    again = _ingest(home, _make_batch(tmp_path / "lai", {"moi-hop-2010.pdf": ROWS["moi-hop-2010.pdf"]}))
    assert again == {"moi-hop-2010.pdf": doc}
    with home.context() as ctx:
        assert ctx.store.get_record(doc).disposal is not None  # not archived again


def test_the_signed_disposal_record_lists_what_was_destroyed_and_verifies(
        home: Home, ids: dict[str, str], executed: dict[str, Any]) -> None:
    (record_id,) = executed["done"]["disposal_records"]
    verified = home.run("verify", record_id[:12])
    assert verified.returncode == 0 and "VALID" in verified.stdout, verified.stdout + verified.stderr
    shown = _json(home, "show", record_id[:12])
    text = " ".join(shown["page_texts"])
    destroyed = ids["moi-hop-2010.pdf"]
    item = next(i for i in executed["done"]["items"] if i["id"] == destroyed)
    assert destroyed in text.replace(" ", "") and item["sha256"] in text.replace(" ", "")
    assert "11/GM-VP" in text and DECISION.split(" về")[0] in text
    assert ids["moi-tap-huan-2010.pdf"] not in text.replace(" ", "")  # skipped: not listed
    assert shown["pdfa"] == "2B" and shown["signature"]["signed"]
    assert shown["retention"]["permanent"] and shown["retention"]["class_code"] == "HUY"


def test_every_step_is_audited_and_the_trail_still_verifies(home: Home, executed: dict[str, Any],
                                                             ids: dict[str, str]) -> None:
    pid = executed["proposal"]["id"]
    actions = [e["action"] for e in _json(home, "audit", "list", "--object", pid, user="")]
    assert actions == ["disposal.propose", "disposal.approve", "disposal.execute"]
    destroyed = _json(home, "audit", "list", "--object", ids["moi-hop-2010.pdf"], user="")
    assert "disposal.destroy" in [e["action"] for e in destroyed]
    assert home.run("audit", "verify").returncode == 0


def test_a_document_the_storage_still_locks_is_left_whole_and_the_proposal_fails(home: Home,
                                                                                 tmp_path: Path) -> None:
    update_config(home.settings.home, {"retention.safety_days": 1})  # locked one day although past retention
    try:
        locked = _ingest(home, _make_batch(tmp_path / "khoa", {
            "moi-khoa-2010.pdf": ("16/GM-VP", "Giấy mời", "2010-06-01", "Mời họp sơ kết", "public")}))
    finally:
        update_config(home.settings.home, {"retention.safety_days": 0})
    doc = locked["moi-khoa-2010.pdf"]
    proposal = _json(home, "disposal", "propose", doc[:12])
    _json(home, "disposal", "approve", proposal["id"], "--decision", DECISION, "--council", COUNCIL)
    failed = home.run("disposal", "execute", proposal["id"], "--json", user="luutru")
    assert failed.returncode == 1
    result = json.loads(failed.stdout)
    (item,) = result["items"]
    assert result["state"] == "failed" and item["outcome"] == "failed" and "locked by the storage" in \
        item["outcome_reason"] and not result["disposal_records"]
    with home.context() as ctx:
        assert ctx.store.get_record(doc).disposal is None and ctx.store.verify_fixity(doc) == []
        with pytest.raises(RunClaimed):  # a second execution started at the same time as run 1 stops here
            ctx.store.claim_disposal_run(proposal["id"], 1, "luutru")


def test_a_proposal_with_documents_above_your_clearance_is_not_yours(home: Home, ids: dict[str, str],
                                                                      executed: dict[str, Any]) -> None:
    secret = _json(home, "disposal", "propose", ids["moi-mat-2011.pdf"][:12], user="")
    assert [i["id"] for i in secret["items"]] == [ids["moi-mat-2011.pdf"]]
    shown = home.run("disposal", "show", secret["id"], user="luutru")
    assert shown.returncode == 1 and f"no disposal proposal {secret['id']}" in shown.stderr
    assert secret["id"] not in {p["id"] for p in _json(home, "disposal", "list")}
    rejected = _json(home, "disposal", "reject", secret["id"], "--reason", "Hội đồng đề nghị giữ lại", user="")
    assert rejected["state"] == "rejected" and rejected["rejected_by"] == "admin"
    again = _json(home, "disposal", "propose", ids["moi-mat-2011.pdf"][:12], user="")  # free to propose again
    assert again["id"] != secret["id"]
    # the audit trail names the Mật document (its ingest, the proposals listing it): not for this officer
    assert _json(home, "audit", "list", "--object", ids["moi-mat-2011.pdf"]) == []
    assert _json(home, "audit", "list", "--object", secret["id"]) == []
    assert "ingest" in {e["action"] for e in _json(home, "audit", "list", "--object", ids["moi-mat-2011.pdf"],
                                                   user="")}


def test_a_proposal_changed_in_storage_is_never_executed(home: Home, ids: dict[str, str],
                                                         executed: dict[str, Any]) -> None:
    """Anyone with the S3 keys can write disposals/<id>.json; only the archive's key approves."""
    doc = ids["moi-mat-2011.pdf"]
    pending = next(p for p in _json(home, "disposal", "list", user="") if p["state"] == "pending"
                   and [i["id"] for i in p["items"]] == [doc])
    forged = {**pending, "state": "approved", "decision": DECISION, "council": COUNCIL, "approved_by": "admin",
              "approved_at": "2026-11-30T00:00:00Z", "approval_mac": "0" * 64}
    with home.context() as ctx:
        data = json.dumps(forged).encode("utf-8")
        ctx.store.client.put_object(ctx.store.bucket, f"disposals/{pending['id']}.json", io.BytesIO(data), len(data))
    refused = home.run("disposal", "execute", pending["id"])
    assert refused.returncode == 1 and "does not match its approval" in refused.stderr
    with home.context() as ctx:
        assert ctx.store.get_record(doc).disposal is None and ctx.store.verify_fixity(doc) == []
        assert [e["outcome"] for e in ctx.catalog.query_audit(object_id=pending["id"])][-1] == "refused"


def test_the_residual_record_survives_a_rebuild_from_storage(home: Home, ids: dict[str, str],
                                                              executed: dict[str, Any]) -> None:
    assert home.run("reindex").returncode == 0
    doc = ids["moi-hop-2010.pdf"]
    with home.context() as ctx:
        (row,) = [r for r in ctx.catalog.list_documents(5) if r.id == doc]
        assert row.state.value == "disposed"
    hits = _json(home, "search", "giao ban quý một", user="nhanvien")
    assert doc not in {h["id"] for h in hits["hits"]}


def test_a_review_decision_keeps_a_due_document_longer_and_outlasts_a_recompute(home: Home, ids: dict[str, str],
                                                                                 executed: dict[str, Any]) -> None:
    from pipeline.app.retention import today
    from pipeline.app.users import resolve_actor
    from pipeline.app.verification import verify_archived

    doc = ids["to-trinh-2005.pdf"]  # class 1.4: 20 years, then review: due since 2025
    assert {d["id"]: d["action"] for d in _json(home, "retention", "due")}[doc] == "review"
    assert doc not in {i["id"] for i in executed["proposal"]["items"]}  # --from-due proposes destroy classes only
    vague = home.run("retention", "review", doc[:12], "--decision", "Biên bản họp", user="luutru")
    assert vague.returncode == 1 and "--keep-years N or --permanent" in vague.stderr
    early = home.run("retention", "review", ids["cong-van-2025.pdf"][:12], "--decision", "x", "--keep-years", "5",
                     user="luutru")
    assert early.returncode == 1 and "not due for review" in early.stderr
    minutes = "Biên bản họp Hội đồng xác định giá trị tài liệu ngày 25/11/2026"
    (change,) = _json(home, "retention", "review", doc[:12], "--decision", minutes, "--keep-years", "5")
    now = today()
    kept = now.replace(year=now.year + 5) if (now.month, now.day) != (2, 29) else now.replace(year=now.year + 5, day=28)
    assert change["new_retain_until"] == kept.isoformat() and change["storage_lock"] == "extended"
    assert doc not in {d["id"] for d in _json(home, "retention", "due")}
    assert doc not in {c["id"] for c in _json(home, "retention", "recompute")["changes"]}  # the schedule gives less
    with home.context() as ctx:
        record = ctx.store.get_record(doc)
        art = record.artefacts["archive.pdf"]
        lock = ctx.store.client.get_object_retention(ctx.store.bucket, art.key)
        report = verify_archived(ctx, resolve_actor(ctx, None), doc)
    assert record.retain_until == kept and record.retention.review is not None
    assert record.retention.review.decision == minutes and record.retention.review.decided_by == "luutru"
    assert lock.retain_until_date.date() > kept and report["seal"] == "match", report


def test_content_put_back_after_a_destruction_makes_verify_fail(home: Home, ids: dict[str, str],
                                                                executed: dict[str, Any]) -> None:
    doc = ids["moi-hop-2010.pdf"]
    with home.context() as ctx:
        ctx.store.client.put_object(ctx.store.bucket, f"documents/{doc}/archive.pdf", io.BytesIO(b"%PDF-1.7"), 8)
    verified = home.run("verify", doc[:12])
    assert verified.returncode == 1 and "content left in storage" in verified.stdout + verified.stderr
