"""Issue 14, fixity audits on the real S3 server: `archive fixity check` re-reads every stored object and compares
it with the recorded SHA-256 (and metadata.json with its seal), oldest-checked first; a changed original or page
text (rewritten with the app's keys, as an insider or a failing disk could) is reported with a non-zero exit,
recorded in the catalog, audited, counted in the metrics and named in `archive fixity report`; `archive verify ID`
reports it too; the beat's signed message runs the same audit as the system. Tests run in file order."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest

from pipeline.core.settings import Settings
from tests.app.conftest import Home, build_home, keyed_worker


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("fixity-home"), "fixity") as made:
        yield made


def _check(home: Home, *args: str, user: str | None = None) -> tuple[int, dict[str, object], str]:
    done = home.run("fixity", "check", "--json", *args, user=user)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def _ids(report: dict[str, object]) -> list[str]:
    return [d["id"] for d in report["documents"]]  # type: ignore[index,union-attr]


def _flipped(home: Home, doc_id: str, role: str) -> None:
    """A new version of one stored object with one bit flipped, written with the app's own keys and lock (not
    through the archive), as an insider or a failing disk could. Flipping it again restores the bytes."""
    with home.context() as ctx:
        record = ctx.store.get_record(doc_id)
        key = record.artefacts[role].key
        body = bytearray(ctx.store.get_bytes(key))
        body[len(body) // 2] ^= 0x01
        ctx.store.client.put_object(ctx.store.bucket, key, io.BytesIO(bytes(body)), len(body),
                                    retention=ctx.store.retention.retention_for(record, role),
                                    legal_hold=ctx.store.retention.legal_hold_for(record, role))


def test_the_oldest_checked_go_first(home: Home, ingested: dict[str, str]) -> None:
    """Batches of 1: never-checked documents first, then the one checked longest ago."""
    runs = []
    for _ in range(3):
        code, report, stderr = _check(home, "--batch", "1")
        assert code == 0 and report["checked"] == 1 and report["failed"] == 0, stderr
        runs.append(_ids(report)[0])
    assert runs[0] != runs[1] and {runs[0], runs[1]} == set(ingested.values())
    assert runs[2] == runs[0]
    with home.context() as ctx:
        due = ctx.catalog.fixity_due(2)
    assert due == [runs[1], runs[2]]


def test_a_clean_archive_checks_clean(home: Home, ingested: dict[str, str]) -> None:
    code, report, stderr = _check(home)
    assert code == 0, stderr
    assert (report["checked"], report["failed"]) == (2, 0)
    assert sorted(_ids(report)) == sorted(ingested.values())
    table = home.run("fixity", "check")
    assert table.returncode == 0 and "2 document(s) checked, 0 damaged" in table.stdout, table.stderr
    done = home.run("fixity", "report", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["documents"], summary["checked_recently"], summary["never_checked"], summary["failing"]) == (
        2, 2, 0, [])
    with home.context() as ctx:
        events = [e for e in ctx.catalog.query_audit() if e["action"] == "fixity.run"]
    assert events[-1]["outcome"] == "ok" and events[-1]["detail"]["checked"] == 2


def test_only_the_records_office_checks_and_sees_its_clearance(home: Home, ingested: dict[str, str]) -> None:
    home.run("user", "add", "nhanvien", "--role", "staff", "--clearance", "tuyet-mat")
    home.run("user", "add", "vanthu", "--role", "records-officer", "--clearance", "public")
    for command in ("check", "report"):
        refused = home.run("fixity", command, user="nhanvien")
        assert refused.returncode == 1 and "records-officer" in refused.stderr, refused.stderr
    code, report, stderr = _check(home, user="vanthu")  # the run covers both; the answer names the public one
    assert code == 0 and _ids(report) == [ingested["cong-khai.pdf"]], stderr
    assert ingested["tuyet-mat.pdf"] not in json.dumps(report)
    code, _, stderr = _check(home, ingested["tuyet-mat.pdf"], user="vanthu")
    assert code == 1 and "no archived document" in stderr
    done = home.run("fixity", "report", "--json", user="vanthu")
    assert done.returncode == 0 and json.loads(done.stdout)["documents"] == 1, done.stderr


def test_a_changed_original_and_page_text_are_found(home: Home, ingested: dict[str, str]) -> None:
    public, secret = ingested["cong-khai.pdf"], ingested["tuyet-mat.pdf"]
    with home.context() as ctx:
        original = next(r for r in ctx.store.get_record(public).artefacts if r.startswith("original/"))
    _flipped(home, public, original)
    _flipped(home, secret, "text/0001.txt")

    code, report, stderr = _check(home)
    assert code == 1 and "fixity check failed for 2 document(s)" in stderr
    problems = {d["id"]: d["problems"] for d in report["documents"]}  # type: ignore[union-attr]
    assert report["failed"] == 2 and set(problems) == {public, secret}
    assert len(problems[public]) == 1 and problems[public][0].startswith(f"{original}: sha256 mismatch")
    assert len(problems[secret]) == 1 and problems[secret][0].startswith("text/0001.txt: sha256 mismatch")

    with home.context() as ctx:  # recorded and audited
        assert {r.doc_id for r in ctx.catalog.fixity_failing(5)} == {public, secret}
        audited = [e for e in ctx.catalog.query_audit(object_id=secret) if e["action"] == "fixity.check"]
    assert audited[-1]["outcome"] == "failed" and audited[-1]["detail"]["problems"] == problems[secret]

    metrics = home.run("metrics")
    assert metrics.returncode == 0, metrics.stderr
    failed = re.search(r'^archive_fixity_checks_total\{outcome="failed"\} (\S+)$', metrics.stdout, re.M)
    assert failed and float(failed.group(1)) >= 2
    assert re.search(r"^archive_fixity_failing_documents 2\.0$", metrics.stdout, re.M), metrics.stdout

    done = home.run("fixity", "report", "--json")
    failing = {r["id"]: r["problems"] for r in json.loads(done.stdout)["failing"]}
    assert failing == problems
    table = home.run("fixity", "report")
    assert "2 document(s) failed their last check" in table.stdout and "text/0001.txt" in table.stdout

    verify = home.run("verify", public, "--json")  # `archive verify ID` checks the originals too
    assert verify.returncode == 1, verify.stderr
    shown = json.loads(verify.stdout)
    assert shown["artefacts"] == "MISMATCH" and shown["checksum"] == "match"
    assert any(p.startswith(f"{original}: sha256 mismatch") for p in shown["problems"])


def test_the_beat_message_is_accepted_by_the_worker_task(home: Home, ingested: dict[str, str]) -> None:
    """Beat signs its message when it sends it; the worker's task opens it and runs the audit as the system. A
    message signed with another key is refused (and audited)."""
    from pipeline.app.messages import MessageRefused, sign_message

    with keyed_worker(home.settings) as tasks:
        entry = tasks.app.conf.beat_schedule["fixity-audit"]
        assert entry["task"] == tasks.FIXITY and entry["schedule"] == 24 * 3600.0
        message = [lazy() for lazy in entry["args"]]
        result = tasks.fixity_audit_task.apply(args=message).get(disable_sync_subtasks=False)
        assert result == {"checked": 2, "failed": 2}
        forged = sign_message("a-guessed-key", tasks.FIXITY, {})
        with pytest.raises(MessageRefused):
            tasks.fixity_audit_task.apply(args=[forged]).get(disable_sync_subtasks=False)
    with home.context() as ctx:
        runs = [e for e in ctx.catalog.query_audit() if e["action"] == "fixity.run"]
        refused = [e for e in ctx.catalog.query_audit() if e["action"] == "message.refused"]
    assert runs[-1]["actor"] == "system" and runs[-1]["outcome"] == "failed" and runs[-1]["detail"]["failed"] == 2
    assert refused and refused[-1]["detail"]["task"] == tasks.FIXITY


def test_a_repaired_document_is_intact_again(home: Home, ingested: dict[str, str]) -> None:
    """The good bytes written back (a repair): the next check is clean, audited as restored, and leaves the report."""
    secret = ingested["tuyet-mat.pdf"]
    _flipped(home, secret, "text/0001.txt")
    code, report, stderr = _check(home, secret[:12])
    assert code == 0 and report["failed"] == 0, stderr
    with home.context() as ctx:
        restored = [e for e in ctx.catalog.query_audit(object_id=secret) if e["action"] == "fixity.check"]
        assert [r.doc_id for r in ctx.catalog.fixity_failing(5)] == [ingested["cong-khai.pdf"]]
    assert restored[-1]["outcome"] == "ok" and restored[-1]["detail"] == {"previously": "failed"}

