"""A `Tuyệt mật` document does not exist for a `public` user: every read command answers as if it were absent,
while the operator (cleared for it) sees it. Run through the real `archive` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.conftest import SECRET_TITLE, Home


@pytest.fixture(scope="module")
def reader(home: Home, ingested: dict[str, str]) -> str:
    proc = home.run("user", "add", "reader", "--role", "staff", "--clearance", "public")
    assert proc.returncode == 0, proc.stderr
    return "reader"


def test_operator_sees_the_secret_document(home: Home, ingested: dict[str, str]) -> None:
    secret = ingested["tuyet-mat.pdf"]
    shown = home.run("show", secret[:10], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["metadata"]["classification"] == "tuyet-mat"
    found = json.loads(home.run("search", "phong thu dan su", "--json").stdout)
    assert secret in [h["id"] for h in found["hits"]]


@pytest.mark.parametrize("command", [
    ["show", "{id}"], ["show", "{prefix}", "--json"], ["get", "{id}", "-o", "{out}"], ["verify", "{prefix}"],
])
def test_reads_of_the_secret_document_say_absent(home: Home, ingested: dict[str, str], reader: str,
                                                 tmp_path: Path, command: list[str]) -> None:
    secret = ingested["tuyet-mat.pdf"]
    args = [a.format(id=secret, prefix=secret[:8], out=tmp_path / "x.pdf") for a in command]
    proc = home.run(*args, user=reader)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("archive: error: no archived document with"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert SECRET_TITLE not in proc.stdout + proc.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_the_public_document_reads_normally_for_the_reader(home: Home, ingested: dict[str, str], reader: str,
                                                          tmp_path: Path) -> None:
    public = ingested["cong-khai.pdf"]
    assert home.run("show", public[:8], user=reader).returncode == 0
    got = home.run("get", public, "-o", str(tmp_path / "p.pdf"), user=reader)
    assert got.returncode == 0 and (tmp_path / "p.pdf").stat().st_size > 0


def test_search_and_stats_do_not_count_or_name_it(home: Home, ingested: dict[str, str], reader: str) -> None:
    found = json.loads(home.run("search", "phong thu dan su", "--json", user=reader).stdout)
    assert found["total"] == 0 and found["hits"] == []
    assert "Phòng Cơ yếu" not in json.dumps(found["facets"], ensure_ascii=False)
    assert "Bộ Quốc phòng" not in json.dumps(found["facets"], ensure_ascii=False)
    number = json.loads(home.run("search", "99/KH-QP", "--json", user=reader).stdout)
    assert number["total"] == 0
    stats = json.loads(home.run("stats", "--json", user=reader).stdout)
    assert stats["documents"]["total"] == 1
    assert "Phòng Cơ yếu" not in stats["by_unit"]
    full = json.loads(home.run("stats", "--json").stdout)
    assert full["documents"]["total"] == 2 and "Phòng Cơ yếu" in full["by_unit"]


def test_suggestions_and_more_like_this_ignore_it(home: Home, ingested: dict[str, str], reader: str) -> None:
    from pipeline.app import searching
    from pipeline.app.errors import NotFound
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        actor = resolve_actor(ctx, reader)
        assert not any("phòng thủ" in s or "phong thu" in s for s in searching.suggest(ctx, actor, "phòng th"))
        with pytest.raises(NotFound):
            searching.more_like_this(ctx, actor, ingested["tuyet-mat.pdf"])
        similar = searching.more_like_this(ctx, actor, ingested["cong-khai.pdf"])
        assert ingested["tuyet-mat.pdf"] not in [h.id for h in similar]


def test_unknown_user_is_one_line_error(home: Home, ingested: dict[str, str]) -> None:
    proc = home.run("stats", user="nobody-here")
    assert proc.returncode == 1 and "no user 'nobody-here'" in proc.stderr


def test_reads_of_classified_documents_are_audited(home: Home, ingested: dict[str, str]) -> None:
    secret = ingested["tuyet-mat.pdf"]
    assert home.run("show", secret[:8]).returncode == 0
    events = json.loads(home.run("audit", "list", "--object", secret, "--json").stdout)
    actions = [(e["actor"], e["action"]) for e in events]
    assert ("admin", "ingest") in actions and ("admin", "read") in actions
    public_events = json.loads(home.run("audit", "list", "--object", ingested["cong-khai.pdf"], "--json").stdout)
    assert [e["action"] for e in public_events] == ["ingest"]  # reads of public documents are not audited
