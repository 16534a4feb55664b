"""Issue 14, a second copy, on two real SeaweedFS servers: every archival object version and audit segment is copied
to the replica with its lock; a replica that is down during ingest leaves the document archived and is caught up by
`archive replicas sync`; one bit flipped in a stored object on ONE side (a new version written with the app's keys,
as bit rot or an insider would leave it) is reported by the fixity audit and `archive replicas check` and repaired
from the other side; a second run finds it intact. Tests run in file order."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pipeline.app.context import Context
from pipeline.archive import replica
from pipeline.core.actor import AccessDenied, Actor
from pipeline.core.settings import Settings, load_settings, update_config
from tests.app.conftest import HEADER, Home, build_home, keyed_worker
from tests.conftest import running_s3

pytestmark = pytest.mark.slow
T = TypeVar("T")


@pytest.fixture(scope="module")
def replica_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A second S3 server: its own home, ports and keys."""
    with running_s3(tmp_path_factory.mktemp("replica-s3-home")) as settings:
        yield settings


def _one_document(folder: Path, name: str, text: str, row: str) -> Path:
    """A batch folder of one born-digital PDF (titled as its manifest row says) and its manifest row."""
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    make_born_digital_pdf([text], folder / name, title=row.split(",")[2])
    (folder / "manifest.csv").write_text(f"{HEADER}{name},{row}\n", encoding="utf-8")
    return folder


def _with_replica(made: Home, replica_server: Settings) -> Home:
    """The home's [replica]: a fresh bucket on the second server, its keys in <home>/secrets."""
    s3 = replica_server.s3
    update_config(made.settings.home, {
        "replica.enabled": True, "replica.manage_local": False, "replica.endpoint": s3.endpoint,
        "replica.bucket": f"replica-{uuid.uuid4().hex[:10]}", "replica.access_key": s3.access_key,
        "replica.secret_key": s3.secret_key})
    made.settings = load_settings(made.settings.home, environ={})
    return made


@pytest.fixture(scope="module")
def home(s3_server: Settings, replica_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("replicas-home"), "replicas") as made:
        yield _with_replica(made, replica_server)


def _sides(home: Home) -> tuple[dict[str, str], dict[str, str]]:
    """key → SHA-256 of the current object, on the primary and on the replica."""
    found = []
    with home.context() as ctx:
        link = ctx.replica
        assert link is not None
        for side in (link.primary, link.replica):
            listed = replica.histories(side)
            found.append({k: replica.hashed(side, k, link.tmp_dir).sha256  # type: ignore[union-attr]
                          for k, h in listed.items() if h.current is not None})
    return found[0], found[1]


def _flip(home: Home, key: str, side_name: str) -> None:
    """A new version of ``key`` on one side with one bit flipped (not the same one on both sides), written with that
    side's keys and lock."""
    with home.context() as ctx:
        side = getattr(ctx.replica, side_name)
        found = replica.read(side, key, ctx.replica.tmp_dir)  # type: ignore[union-attr]
        assert found is not None
        stored, body = found
        flipped = bytearray(body)
        flipped[len(flipped) // (2 if side_name == "primary" else 3)] ^= 0x01
        side.client.put_object(side.bucket, key, io.BytesIO(bytes(flipped)), len(flipped),
                               retention=stored.retention)


def _events(home: Home, action: str) -> list[dict[str, Any]]:
    with home.context() as ctx:
        return [e for e in ctx.catalog.query_audit() if e["action"] == action]


def _as(home: Home, use: Callable[[Context, Actor], T], user: str | None = None) -> T:
    """A use case in-process (the CLI costs seconds per call on a busy machine), as ``user`` (None: the operator)."""
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        return use(ctx, resolve_actor(ctx, user))


def _fixity(home: Home, doc_id: str) -> dict[str, Any]:
    from pipeline.app import fixity

    return _as(home, lambda ctx, actor: fixity.check(ctx, actor, [doc_id]).to_dict())


def _check(home: Home, ids: list[str] | None = None, repair: bool = True) -> dict[str, Any]:
    from pipeline.app import replica_runs

    return _as(home, lambda ctx, actor: replica_runs.check(ctx, actor, ids, repair).to_dict())


def _cli(home: Home, *args: str, user: str | None = None) -> tuple[int, dict[str, Any], str]:
    done = home.run(*args, "--json", user=user)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def test_an_archived_document_is_on_both_sides_with_its_lock(home: Home, ingested: dict[str, str]) -> None:
    primary, copy = _sides(home)
    for doc_id in ingested.values():
        keys = [k for k in primary if k.startswith(f"documents/{doc_id}/")]
        assert f"documents/{doc_id}/metadata.json" in keys and f"documents/{doc_id}/archive.pdf" in keys
        assert any("/original/" in k for k in keys) and any("/text/" in k for k in keys)
        assert {k: copy.get(k) for k in keys} == {k: primary[k] for k in keys}
    seals = [e for e in _events(home, "ingest") if e["outcome"] == "archived"]
    sealed_in = {f"audit/{int(e['seq']):012d}.jsonl" for e in seals} & set(primary)  # segments starting with them
    assert sealed_in and sealed_in <= set(copy)
    with home.context() as ctx:
        link = ctx.replica
        assert link is not None
        key = f"documents/{ingested['tuyet-mat.pdf']}/archive.pdf"
        locks = [replica.stat(side, key, None) for side in (link.primary, link.replica)]
    assert locks[0].retention is not None and locks[1].retention is not None
    assert (locks[1].retention.mode, locks[1].retention.retain_until_date) == (
        locks[0].retention.mode, locks[0].retention.retain_until_date)


def test_sync_copies_every_object_and_audit_segment(home: Home, ingested: dict[str, str]) -> None:
    code, report, stderr = _cli(home, "replicas", "sync")
    assert code == 0 and report["problems"] == [] and report["copied"] > 0, stderr
    primary, copy = _sides(home)
    behind = {k for k in primary if copy.get(k) != primary[k] and not k.startswith("audit/")}
    assert behind == set()  # the sync's own audit event is the only thing written since
    segments = {k for k in primary if k.startswith("audit/")}
    assert segments - set(copy) <= {max(segments)}
    report = _check(home)
    assert report["problems"] == 0 and report["repaired"] == 0, report
    assert _events(home, "replica.check")[-1]["outcome"] == "ok"


def test_a_reader_may_neither_check_nor_sync(home: Home, ingested: dict[str, str]) -> None:
    from pipeline.app import replica_runs
    from pipeline.app.users import add_user
    from pipeline.core.vocabulary import Classification, Role

    _as(home, lambda ctx, actor: add_user(ctx, actor, "nguoidoc", frozenset({Role.STAFF}), Classification.TUYET_MAT))
    for run in (replica_runs.check, replica_runs.sync):
        with pytest.raises(AccessDenied, match="records-officer"):
            _as(home, run, user="nguoidoc")
    code, _, stderr = _cli(home, "replicas", "check", user="nguoidoc")
    assert code == 1 and "records-officer" in stderr, stderr


@pytest.mark.parametrize("side", ["primary", "replica"])
def test_a_flipped_bit_on_one_side_is_found_by_the_fixity_audit_and_repaired(
        home: Home, ingested: dict[str, str], side: str) -> None:
    doc_id = ingested["cong-khai.pdf"]
    with home.context() as ctx:
        record = ctx.store.get_record(doc_id)
    original = next(a.key for role, a in record.artefacts.items() if role.startswith("original/"))
    recorded = next(a.sha256 for a in record.artefacts.values() if a.key == original)
    _flip(home, original, side)
    primary, copy = _sides(home)
    assert (primary[original] == recorded) is (side == "replica")
    assert (copy[original] == recorded) is (side == "primary")

    if side == "primary":  # the CLI says so, exit 0: repaired
        code, report, stderr = _cli(home, "fixity", "check", doc_id[:12])
        assert code == 0 and "repaired from the other" in stderr, stderr
    else:
        report = _fixity(home, doc_id)
    assert report["repaired"] == 1 and report["failed"] == 0, report
    (result,) = report["documents"]
    assert result["ok"] and len(result["repaired"]) == 1
    assert result["repaired"][0].startswith(f"{original}: sha256 mismatch on the {side} (recorded {recorded}")
    primary, copy = _sides(home)
    assert primary[original] == copy[original] == recorded
    repair = _events(home, "replica.repair")[-1]
    assert repair["object"] == doc_id and repair["detail"]["key"] == original and repair["detail"]["side"] == side
    assert _events(home, "fixity.check")[-1]["outcome"] == "repaired"

    report = _fixity(home, doc_id)  # a second run: intact, nothing to repair
    assert report["repaired"] == 0 and report["failed"] == 0, report
    from pipeline.app.metrics import exposition

    metrics = _as(home, exposition).decode()
    assert f'archive_replica_objects_total{{outcome="repaired_{side}"}} 1.0' in metrics


def test_a_damaged_metadata_json_is_judged_by_its_seal_and_repaired(home: Home, ingested: dict[str, str]) -> None:
    doc_id = ingested["tuyet-mat.pdf"]
    key = f"documents/{doc_id}/metadata.json"
    from pipeline.app.verification import verify_target

    _flip(home, key, "primary")
    assert _as(home, lambda ctx, actor: verify_target(ctx, actor, doc_id))["status"] == "invalid"
    report = _fixity(home, doc_id)
    assert report["repaired"] == 1 and report["failed"] == 0, report
    assert _as(home, lambda ctx, actor: verify_target(ctx, actor, doc_id))["status"] == "valid"


def test_replicas_check_reports_without_repair_then_repairs(home: Home, ingested: dict[str, str]) -> None:
    doc_id = ingested["tuyet-mat.pdf"]
    text = f"documents/{doc_id}/text/0001.txt"
    _flip(home, text, "replica")
    primary, _copy = _sides(home)
    segment = min(k for k in primary if k.startswith("audit/"))
    _flip(home, segment, "replica")  # an audit segment too: judged by its own event hashes

    code, report, stderr = _cli(home, "replicas", "check", "--no-repair")
    assert code == 1 and "problem(s) left" in stderr
    damaged = {f["key"]: f for d in report["documents"] for f in d["findings"]}
    assert damaged[text]["status"] == "damaged" and damaged[text]["side"] == "replica"
    assert damaged[segment]["status"] == "damaged" and damaged[segment]["side"] == "replica"
    assert _events(home, "replica.check")[-1]["outcome"] == "failed"

    code, report, stderr = _cli(home, "replicas", "check")
    assert code == 0 and report["repaired"] == 2 and report["problems"] == 0, stderr
    report = _check(home, [doc_id[:12]])
    assert report["repaired"] == 0 and report["documents"] == [], report
    primary, copy = _sides(home)
    assert copy[text] == primary[text] and copy[segment] == primary[segment]


def _replica_holds(home: Home, doc_id: str) -> set[bool]:
    """The legal-hold flag of every stored version of the document on the replica."""
    with home.context() as ctx:
        link = ctx.replica
        assert link is not None
        listed = replica.histories(link.replica, f"documents/{doc_id}/")
        return {replica.stat(link.replica, v.key, v.version_id).legal_hold for h in listed.values() for v in h.versions}


def test_a_legal_hold_and_its_release_reach_the_replica_copies(home: Home, ingested: dict[str, str]) -> None:
    from pipeline.app import holds

    doc_id = ingested["cong-khai.pdf"]
    hold = _as(home, lambda ctx, actor: holds.add(ctx, actor, [doc_id], "Thanh tra", "TT-01/2026"))
    assert _replica_holds(home, doc_id) == {False}
    report = _check(home, [doc_id])
    assert report["locks"] >= 4 and report["problems"] == 0, report
    assert _replica_holds(home, doc_id) == {True}
    _as(home, lambda ctx, actor: holds.release(ctx, actor, hold.id, "Kết thúc thanh tra"))
    assert _check(home, [doc_id])["locks"] >= 4
    assert _replica_holds(home, doc_id) == {False}


def test_a_replica_outage_never_fails_an_ingest_and_sync_catches_up(
        home: Home, replica_server: Settings, ingested: dict[str, str], tmp_path: Path) -> None:
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from pipeline.devtools.services.s3local import start_s3, stop_s3

    folder = _one_document(tmp_path / "lo-mat-dien", "thong-bao.pdf", "THÔNG BÁO lưu trữ khi kho dự phòng mất điện.",
                           "07/TB-VP,Thông báo,Thông báo mất điện,Văn phòng,2026-11-03,,Văn phòng,public,")
    stop_s3(replica_server)
    try:
        with home.context() as ctx:
            report = ingest_batch(ctx, resolve_actor(ctx, None), folder, executor="local")
        assert report.ok, report.to_dict()
        (doc,) = report.documents
        checked = _fixity(home, ingested["cong-khai.pdf"])  # the primary checked alone, not a failure
        assert checked["failed"] == 0 and checked["repaired"] == 0, checked
        code, _, stderr = _cli(home, "replicas", "sync")
        assert code == 1 and "replica" in stderr and "not reachable" in stderr, stderr
    finally:
        start_s3(replica_server)
    primary, copy = _sides(home)
    keys = [k for k in primary if k.startswith(f"documents/{doc.id}/")]
    assert keys and not any(k in copy for k in keys)  # archived, not yet replicated
    from pipeline.app import replica_runs

    report = _as(home, lambda ctx, actor: replica_runs.sync(ctx, actor).to_dict())
    assert report["copied"] >= len(keys) and report["problems"] == [], report
    primary, copy = _sides(home)
    assert {k: copy.get(k) for k in keys} == {k: primary[k] for k in keys}
    assert _events(home, "replica.sync")[-1]["outcome"] == "ok"


def test_the_beat_message_runs_the_sync_as_the_system(home: Home, ingested: dict[str, str]) -> None:
    """Beat signs its message when it sends it; the worker's task opens it and syncs as the system."""
    from pipeline.app.messages import MessageRefused, sign_message
    from pipeline.entry import replica_task

    with keyed_worker(home.settings) as tasks:
        entry = tasks.app.conf.beat_schedule["replica-sync"]
        assert entry["task"] == replica_task.REPLICA_SYNC and entry["schedule"] == 3600.0
        assert tasks.app.conf.task_routes[replica_task.REPLICA_SYNC] == {"queue": "renew"}
        message = [lazy() for lazy in entry["args"]]
        result = replica_task.replica_sync_task.apply(args=message).get(disable_sync_subtasks=False)
        assert result["problems"] == [] and result["copied"] >= 1  # at least the audit segments since the last run
        with pytest.raises(MessageRefused):
            replica_task.replica_sync_task.apply(
                args=[sign_message("a-guessed-key", replica_task.REPLICA_SYNC, {})]).get(disable_sync_subtasks=False)
    assert _events(home, "replica.sync")[-1]["actor"] == "system"


def test_a_document_destroyed_on_the_primary_is_destroyed_on_the_replica(
        s3_server: Settings, replica_server: Settings, tmp_path: Path) -> None:
    """Approved disposal deletes the content on the primary (retention over: safety_days 0, an issue date of
    2010); the sync finishes it on the replica, which keeps the sealed residual record only."""
    from pipeline.app import disposal, replica_runs
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor
    from tests.app.conftest import unlocked_home

    folder = _one_document(tmp_path / "lo-huy", "moi-hop.pdf", "Giấy mời số 11/GM-VP: mời họp giao ban quý một.",
                           "11/GM-VP,Giấy mời,Mời họp giao ban,Văn phòng,2010-01-05,,Văn phòng,public,")
    with unlocked_home(s3_server, tmp_path / "home", "destroyed") as made:
        made = _with_replica(made, replica_server)
        with made.context() as ctx:
            actor = resolve_actor(ctx, None)
            (doc,) = ingest_batch(ctx, actor, folder, executor="local").documents
            proposal = disposal.propose(ctx, actor, [doc.id])
            disposal.approve(ctx, actor, proposal.id, "Quyết định số 07/QĐ-VP về việc hủy tài liệu hết giá trị",
                             "Nguyễn Văn An; Trần Thị Bình")
            disposal.execute(ctx, actor, proposal.id)
        primary, copy = _sides(made)
        prefix = f"documents/{doc.id}/"
        assert [k for k in primary if k.startswith(prefix)] == [f"{prefix}metadata.json"]
        assert len([k for k in copy if k.startswith(prefix)]) > 1  # the replica still holds the content
        report = _as(made, lambda ctx, actor: replica_runs.sync(ctx, actor).to_dict())
        assert report["destroyed"] >= 4 and report["problems"] == [], report
        primary, copy = _sides(made)
        assert {k: v for k, v in copy.items() if k.startswith(prefix)} == {f"{prefix}metadata.json":
                                                                           primary[f"{prefix}metadata.json"]}
        assert _check(made, [doc.id])["problems"] == 0
