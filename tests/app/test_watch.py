"""The hot folder (`archive watch DIR`) on real services (the session's S3 server, a SQLite catalog, the local
executor; signing off to keep it fast): a batch written slowly is claimed only once complete and ingested once;
a watcher killed mid-batch (SIGKILL) and started again completes the batch under the same id with every document
archived exactly once; a bad file sends the batch to failed/ with the reason; a marker file can be required;
a folder outside the intake roots, one already watched, or the API's upload staging is refused in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.users import operator
from pipeline.app.watch import Watcher, WatchOptions
from pipeline.archive.client import make_client
from pipeline.archive.layout import METADATA
from pipeline.core.settings import Settings, load_settings, write_settings
from pipeline.core.vocabulary import Classification, DocState

ARCHIVE = str(Path(sys.executable).parent / "archive")
FAST = ["--settle", "0.5", "--interval", "0.1", "--local"]


@pytest.fixture(scope="module")
def watch_home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A home on a fresh bucket of the session's S3 server: in-process ingest, no signing."""
    root = tmp_path_factory.mktemp("watch-home")
    settings = load_settings(root, environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"watch-{uuid.uuid4().hex[:10]}"})
    settings.s3.manage_local = False
    settings.audit.seal_key = s3_server.audit.seal_key
    settings.sign.enabled = False
    settings.executor = "local"
    write_settings(settings)
    return load_settings(root, environ={})


def _hot(settings: Settings, name: str) -> Path:
    folder = settings.intake_roots[0] / name
    folder.mkdir(parents=True)
    return folder


def _pdfs(folder: Path, count: int) -> list[Path]:
    """``count`` one-page born-digital PDFs of unique content (prepared outside the hot folder)."""
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    tag = uuid.uuid4().hex[:8]
    return [make_born_digital_pdf([f"Công văn số {n} ({tag}) về lưu trữ tài liệu điện tử."], folder / f"cv-{n}.pdf")
            for n in range(1, count + 1)]


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return env | {"ARCHIVE_HOME": str(settings.home), "OMP_THREAD_LIMIT": "1"}


def _summary(hot: Path, where: str, name: str) -> dict:
    path = hot / where / f"{name}.json"
    assert path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)  # names documents: the owner's only
    return json.loads(path.read_text(encoding="utf-8"))


def _metadata_versions(settings: Settings, ids: set[str]) -> dict[str, int]:
    """Versions of metadata.json (the commit point) per document id, as the S3 server lists them."""
    counts: dict[str, int] = {}
    for obj in make_client(settings.s3).list_objects(settings.s3.bucket, recursive=True, include_version=True):
        name = obj.object_name or ""
        owner = next((i for i in ids if i in name), None)
        if name.endswith("/" + METADATA) and owner is not None and not obj.is_delete_marker:
            counts[owner] = counts.get(owner, 0) + 1
    return counts


def _once(settings: Settings, hot: Path, **options: object) -> list:
    with Context(settings) as ctx, Watcher(ctx, operator(ctx), hot, WatchOptions(**options)) as watcher:
        return watcher.run(once=True)


def test_a_batch_written_slowly_is_claimed_only_once_complete(watch_home: Settings, tmp_path: Path) -> None:
    hot = _hot(watch_home, "hot-slow")
    sources = _pdfs(tmp_path / "src", 2)
    batch = hot / "lo-cham"
    seen_while_writing: list[str] = []
    written: list[datetime] = []

    def scanner() -> None:
        """Each file in three parts, 0.3 s apart (well under the settle time): ~2 s for the batch."""
        batch.mkdir()
        for source in sources:
            data = source.read_bytes()
            third = len(data) // 3
            for part in (data[:third], data[third: 2 * third], data[2 * third:]):
                with (batch / source.name).open("ab") as fh:  # by path: fails if the folder was claimed
                    fh.write(part)
                claimed = sorted(p.name for p in (hot / ".processing").iterdir() if not p.name.startswith("."))
                seen_while_writing.extend(claimed)
                time.sleep(0.3)
        written.append(datetime.now(UTC))

    finished: list = []
    with Context(watch_home) as ctx:
        watcher = Watcher(ctx, operator(ctx), hot, WatchOptions(settle_s=2.0, interval_s=0.1, executor="local"))
        loop = threading.Thread(target=lambda: finished.extend(watcher.run()))
        loop.start()
        try:
            scanner()
            deadline = time.monotonic() + 120
            while not (hot / "done" / "lo-cham.json").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            watcher.stop()
            loop.join(timeout=120)
            watcher.close()
        assert written and seen_while_writing == []
        assert [(f.name, f.result) for f in finished] == [("lo-cham", "done")]
        summary = _summary(hot, "done", "lo-cham")
        waited = (datetime.fromisoformat(summary["claimed_at"]) - written[0]).total_seconds()
        assert waited >= 1.5, summary  # the settle time after the last write (which was 0.3 s before the end)
        assert summary["result"] == "done" and summary["summary"]["archived"] == 2, summary
        assert sorted(d["source"] for d in summary["documents"]) == [s.name for s in sources]
        assert sorted(p.name for p in (hot / "done" / "lo-cham").iterdir()) == [s.name for s in sources]
        assert not batch.exists() and list((hot / "failed").iterdir()) == []
        ids = {d["doc_id"] for d in summary["documents"]}
        assert len(ids) == 2 and all(ctx.catalog.get_record(i, Classification.TUYET_MAT) for i in ids)

    # The same files again under the same name, a marker file required this time: not taken without it; then
    # duplicates by content (never archived twice), and the name in done/ is taken, so it gets a suffix.
    (hot / "lo-cham").mkdir()
    for source in sources:
        (hot / "lo-cham" / source.name).write_bytes(source.read_bytes())
    marked = {"settle_s": 0.5, "interval_s": 0.1, "executor": "local", "ready": "READY"}
    assert _once(watch_home, hot, **marked) == [] and (hot / "lo-cham").is_dir()  # stable, but not marked ready
    (hot / "lo-cham" / "READY").write_bytes(b"")
    again = _once(watch_home, hot, **marked)
    assert [(f.name, f.result, f.folder.name) for f in again] == [("lo-cham", "done", "lo-cham-2")]
    twice = _summary(hot, "done", "lo-cham-2")
    assert twice["summary"]["duplicate"] == 2 and twice["summary"]["archived"] == 0, twice
    assert sorted(p.name for p in (hot / "done" / "lo-cham-2").iterdir()) == [s.name for s in sources]  # no marker
    assert _metadata_versions(watch_home, ids) == dict.fromkeys(ids, 1)


def test_a_killed_watcher_completes_the_batch_exactly_once(watch_home: Settings, tmp_path: Path) -> None:
    hot = _hot(watch_home, "hot-kill")
    count = 3
    staged = tmp_path / "lo-kill"
    _pdfs(staged, count)
    staged.rename(hot / "lo-kill")  # appears whole
    proc = subprocess.Popen([ARCHIVE, "watch", str(hot), *FAST], env=_env(watch_home), stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    guard = threading.Timer(180, proc.kill)
    guard.start()
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # killed as soon as the first document is archived
            lines.append(line)
            if "lo-kill/cv-1.pdf: archived" in line:
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
        guard.cancel()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "".join(lines)
    state = json.loads((hot / ".processing" / ".state" / "lo-kill.json").read_text(encoding="utf-8"))
    batch_id = state["batch_id"]
    with Context(watch_home) as ctx:
        before = {i.source_path: i.state for i in ctx.catalog.batch_items(batch_id)}
    assert (hot / ".processing" / "lo-kill").is_dir()
    assert before["cv-1.pdf"] is DocState.ARCHIVED and before["cv-3.pdf"] is not DocState.ARCHIVED, before

    again = _once(watch_home, hot, settle_s=0.5, interval_s=0.1, executor="local")  # started again
    assert [(f.name, f.result) for f in again] == [("lo-kill", "done")]
    summary = _summary(hot, "done", "lo-kill")
    assert summary["batch_id"] == batch_id and summary["runs"] == 2, summary
    assert summary["summary"]["archived"] == count and summary["journal"] == "done", summary
    assert not (hot / ".processing" / "lo-kill").exists() and list((hot / ".processing" / ".state").iterdir()) == []
    ids = {d["doc_id"] for d in summary["documents"]}
    assert len(ids) == count
    with Context(watch_home) as ctx:
        journal = ctx.catalog.batch_items(batch_id)
        assert len(journal) == count and {i.state for i in journal} == {DocState.ARCHIVED}
        for doc_id in ids:
            assert ctx.catalog.get_record(doc_id, Classification.TUYET_MAT) is not None  # one catalog row each
            sealed = [e for e in ctx.catalog.query_audit(object_id=doc_id) if e["action"] == "ingest"]
            assert len(sealed) == 1, sealed
        batches = [b for b in ctx.catalog.list_batches() if b.name == "lo-kill"]
        assert [b.id for b in batches] == [batch_id]  # resumed, not ingested as a second batch
    assert _metadata_versions(watch_home, ids) == dict.fromkeys(ids, 1)  # one metadata.json, one version each


def test_a_batch_with_a_bad_file_goes_to_failed_with_the_reason(watch_home: Settings) -> None:
    """Through the CLI (`--once`: exit code 3 when a batch went to failed/); an OS leftover in the batch is
    skipped and one beside the batches ignored; a batch that cannot be ingested at all goes to failed/ too."""
    hot = _hot(watch_home, "hot-bad")
    (hot / "lo-hong").mkdir()
    (hot / "lo-hong" / "hong.pdf").write_bytes(b"%PDF-1.7\nnot really a PDF: the scanner stopped here")
    (hot / "lo-hong" / "desktop.ini").write_bytes(b"[.ShellClassInfo]\n")
    (hot / "Thumbs.db").write_bytes(b"\0" * 16)
    (hot / "lo-ma-hoa").mkdir()  # a manifest saved as Windows-1258: refused before anything is written
    (hot / "lo-ma-hoa" / "a.pdf").write_bytes(b"%PDF-1.7\n")
    (hot / "lo-ma-hoa" / "manifest.csv").write_bytes(b"path,doc_number,doc_type\n"
                                                    + "a.pdf,01/CT,Công văn\n".encode("cp1258"))
    done = subprocess.run([ARCHIVE, "watch", str(hot), "--once", *FAST], env=_env(watch_home), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    summary = _summary(hot, "failed", "lo-hong")
    assert summary["result"] == "failed" and "1 document(s) quarantined" in summary["reason"], summary
    assert "hong.pdf" in summary["reason"] and "corrupt" in summary["reason"]
    states = {d["source"]: (d["state"], d["reason"]) for d in summary["documents"]}
    assert states["hong.pdf"][0] == "quarantined" and "corrupt" in states["hong.pdf"][1]
    assert states["desktop.ini"][0] == "skipped"
    assert sorted(p.name for p in (hot / "failed" / "lo-hong").iterdir()) == ["desktop.ini", "hong.pdf"]
    assert list((hot / "done").iterdir()) == [] and (hot / "Thumbs.db").exists()
    assert "lo-hong → failed/lo-hong" in done.stderr
    refused = _summary(hot, "failed", "lo-ma-hoa")
    assert refused["reason"].startswith("the batch could not be ingested: manifest.csv is not UTF-8"), refused
    assert refused["journal"] == "not started" and refused["documents"] == []


def test_left_overs_of_killed_watchers_are_completed(watch_home: Settings, tmp_path: Path) -> None:
    """Without ingesting anything: a claimed batch whose every run ended with the watcher killed goes to failed/
    (no crash loop); a move to done/ interrupted before its summary gets the summary; a state whose folder is gone
    is forgotten."""
    hot = _hot(watch_home, "hot-leftovers")
    work = hot / ".processing"
    (work / ".state").mkdir(parents=True)
    (work / "lo-chet").mkdir()
    (work / "lo-chet" / "a.pdf").write_bytes(b"%PDF-1.7\n")
    (work / ".state" / "lo-chet.json").write_text(json.dumps(
        {"batch_id": "20260101T000000Z-0000dead", "name": "lo-chet", "source": "", "attempts": 3}))
    (hot / "done" / "lo-xong").mkdir(parents=True)
    (work / ".state" / "lo-xong.json").write_text(json.dumps(
        {"batch_id": "20260101T000000Z-00000d0e", "name": "lo-xong", "attempts": 1, "result": "done",
         "moving_to": str(hot / "done" / "lo-xong")}))
    (work / ".state" / "lo-mat.json").write_text(json.dumps({"batch_id": "20260101T000000Z-0000a0a0"}))
    finished = _once(watch_home, hot, settle_s=0.2, interval_s=0.1, executor="local", attempts=3)
    assert [(f.name, f.result) for f in finished] == [("lo-chet", "failed")]
    assert "killed" in _summary(hot, "failed", "lo-chet")["reason"]
    assert (hot / "failed" / "lo-chet" / "a.pdf").is_file()
    moved = _summary(hot, "done", "lo-xong")
    assert moved["result"] == "done" and moved["batch_id"] == "20260101T000000Z-00000d0e"
    assert sorted(p.name for p in work.iterdir()) == [".lock", ".state"] and list((work / ".state").iterdir()) == []


def test_refusals_are_one_line(watch_home: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "hot-elsewhere"
    outside.mkdir()
    proc = subprocess.run([ARCHIVE, "watch", str(outside), "--once"], env=_env(watch_home), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("archive: error: watch folder"), proc.stderr
    assert "outside the intake roots" in proc.stderr
    assert not (outside / ".processing").exists()

    hot = _hot(watch_home, "hot-twice")
    with (Context(watch_home) as ctx, Watcher(ctx, operator(ctx), hot),
          pytest.raises(Invalid, match=rf"another `archive watch` \(pid {os.getpid()}\) is watching")):
        Watcher(ctx, operator(ctx), hot)
    staging = _hot(watch_home, "uploads/hot")  # the REST API's upload staging is never a hot folder
    with Context(watch_home) as ctx, pytest.raises(Invalid, match="upload staging"):
        Watcher(ctx, operator(ctx), staging)
