"""Archivists correct metadata (issue 13's "edit metadata"), on the real S3 server: a new sealed version of the
record that `archive verify` accepts, the catalog and the search index follow, the signed PDF is untouched;
only archivists edit, an unseen document does not exist, classification and dossier are not editable, an
archivist alone cannot make a record due sooner, and a tampered record is never re-sealed."""

from __future__ import annotations

import io
import json

import pytest

from pipeline.app.errors import Invalid, NotFound
from pipeline.app.metadata_edit import edit_metadata
from pipeline.app.searching import SearchQuery, search
from pipeline.app.users import add_user, operator
from pipeline.core.actor import AccessDenied, Actor
from pipeline.core.vocabulary import Classification, Role
from tests.app.conftest import Home

ARCHIVIST = Actor("luutru", frozenset({Role.ARCHIVIST}), Classification.PUBLIC)
OFFICER = Actor("vanthu", frozenset({Role.ARCHIVIST, Role.RECORDS_OFFICER}), Classification.PUBLIC)
STAFF = Actor("canbo", frozenset({Role.STAFF}), Classification.TUYET_MAT)


def _versions(home: Home, doc_id: str) -> int:
    with home.context() as ctx:
        key = f"documents/{doc_id}/metadata.json"
        return sum(1 for _ in ctx.store.client.list_objects(ctx.store.bucket, prefix=key, include_version=True))


def test_a_corrected_title_is_sealed_searchable_and_verifiable(home: Home, ingested: dict[str, str]) -> None:
    public = ingested["cong-khai.pdf"]
    with home.context() as ctx:
        add_user(ctx, operator(ctx), "luutru", frozenset({Role.ARCHIVIST}), Classification.PUBLIC)
        before = ctx.store.get_record(public)
        record = edit_metadata(ctx, ARCHIVIST, public[:10], {"title": "Chỉ thị về quản lý lưu trữ điện tử",
                                                             "signer": "Nguyễn Văn Bình"}, "sai tiêu đề khi nhập")
        assert record.metadata.title == "Chỉ thị về quản lý lưu trữ điện tử"
        assert record.events[-1].stage == "metadata"
        assert record.events[-1].detail["changes"]["title"] == ["Văn bản điện tử công khai",
                                                                "Chỉ thị về quản lý lưu trữ điện tử"]
        assert ctx.catalog.get_record(public, 0).metadata.signer == "Nguyễn Văn Bình"
        assert ctx.store.get_record(public).artefacts["archive.pdf"] == before.artefacts["archive.pdf"]
        hits = search(ctx, STAFF, SearchQuery(text="quan ly luu tru dien tu")).hits
        assert public in [h.id for h in hits]
        (event,) = [e for e in ctx.catalog.query_audit(object_id=public) if e["action"] == "metadata.change"]
        assert event["actor"] == "luutru" and event["detail"]["reason"] == "sai tiêu đề khi nhập"
    assert _versions(home, public) == 2  # the first version is kept (WORM): the history stays readable
    verified = json.loads(home.run("verify", public, "--json").stdout)
    assert verified["status"] == "valid", verified
    assert verified["seal_event"]["action"] == "metadata.change"
    shown = home.run("show", public)
    assert "Chỉ thị về quản lý lưu trữ điện tử" in shown.stdout


def test_the_cli_edits_and_says_what_changed(home: Home, ingested: dict[str, str]) -> None:
    public = ingested["cong-khai.pdf"]
    done = home.run("edit", public, "--set", "keywords=lưu trữ; điện tử", "--reason", "bổ sung từ khóa")
    assert done.returncode == 0, done.stderr
    assert "keywords: — → lưu trữ; điện tử" in done.stdout
    same = home.run("edit", public, "--set", "keywords=lưu trữ; điện tử", "--reason", "lần nữa")
    assert same.returncode == 1 and "nothing to change" in same.stderr and "Traceback" not in same.stderr
    bad = home.run("edit", public, "--set", "classification=public", "--reason", "hạ mật")
    assert bad.returncode == 1 and "cannot edit classification" in bad.stderr


def test_who_may_edit_what(home: Home, ingested: dict[str, str]) -> None:
    public, secret = ingested["cong-khai.pdf"], ingested["tuyet-mat.pdf"]
    with home.context() as ctx:
        with pytest.raises(AccessDenied, match="archivist"):
            edit_metadata(ctx, STAFF, public, {"title": "Khác"}, "thử")
        with pytest.raises(NotFound):  # above the archivist's clearance: it does not exist for them
            edit_metadata(ctx, ARCHIVIST, secret, {"title": "Khác"}, "thử")
        for changes, reason, message in [({"dossier_code": "X"}, "thử", "cannot edit dossier_code"),
                                         ({"title": "Khác"}, "  ", "reason"),
                                         ({"issued_date": "31/02/2026"}, "thử", "issued_date"),
                                         ({"title": "a\x00b"}, "thử", "control"),
                                         ({"title": "Quyết định \u202ehủy"}, "thử", "bidirectional")]:
            with pytest.raises(Invalid, match=message):
                edit_metadata(ctx, ARCHIVIST, public, changes, reason)


def test_an_archivist_alone_cannot_make_a_record_due_sooner(home: Home, ingested: dict[str, str]) -> None:
    """Chỉ thị is kept permanently under the built-in schedule; as a "Giấy mời" it would be kept 5 years."""
    public = ingested["cong-khai.pdf"]
    with home.context() as ctx:
        assert ctx.catalog.get_record(public, 0).retention.permanent
        with pytest.raises(AccessDenied, match="shorten"):
            edit_metadata(ctx, ARCHIVIST, public, {"doc_type": "Giấy mời"}, "nhầm loại")
        assert ctx.store.get_record(public).metadata.doc_type == "Chỉ thị"  # nothing written
        record = edit_metadata(ctx, OFFICER, public, {"doc_type": "Giấy mời"}, "nhầm loại, phòng lưu trữ duyệt")
        assert not record.retention.permanent and record.retain_until is not None
        assert record.events[-1].detail["retention"]["old_class"] != record.retention.class_code


def test_two_edits_at_once_both_stay_verifiable(home: Home, ingested: dict[str, str]) -> None:
    """A double click or a retried request: two edits of one document at the same moment are serialised, so
    the trail holds two chained seals (not a replayed one) and the record verifies."""
    from concurrent.futures import ThreadPoolExecutor

    public = ingested["cong-khai.pdf"]
    with home.context() as ctx, ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda n: edit_metadata(ctx, OFFICER, public, {"notes": f"ghi chú {n}"}, "hai lần"),
                             range(2)))
        assert {r.metadata.notes for r in done} == {"ghi chú 0", "ghi chú 1"}
    verified = json.loads(home.run("verify", public, "--json").stdout)
    assert verified["status"] == "valid", verified


def test_a_tampered_record_is_never_resealed(home: Home, ingested: dict[str, str]) -> None:
    from pipeline.archive.store import metadata_bytes

    public = ingested["cong-khai.pdf"]
    with home.context() as ctx:
        forged = ctx.store.get_record(public)
        forged.metadata.unit = "Đơn vị giả"
        data = metadata_bytes(forged)
        ctx.store.client.put_object(ctx.store.bucket, f"documents/{public}/metadata.json", io.BytesIO(data),
                                    len(data), retention=ctx.store.retention.retention_for(forged, "metadata.json"))
        with pytest.raises(Exception, match="seal"):
            edit_metadata(ctx, OFFICER, public, {"title": "Sửa lại"}, "thử")
        assert ctx.store.get_record(public).metadata.title != "Sửa lại"
