"""`archive audit verify` on a trail tampered with for real (raw S3 calls with the application's own keys):
each change, removal and reordering is named with its event, exit 1; an intact trail says how many it checked."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pipeline.app.context import Context
from pipeline.archive import audit_log
from pipeline.core.settings import Settings, load_settings, write_settings

ARCHIVE = str(Path(sys.executable).parent / "archive")


@pytest.fixture()
def trail_home(s3_server: Settings, tmp_path: Path) -> tuple[Context, dict[str, str]]:
    settings = load_settings(tmp_path, environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"audit-{uuid.uuid4().hex[:10]}"})
    settings.s3.manage_local = False
    write_settings(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {"ARCHIVE_HOME": str(tmp_path)}
    ctx = Context(load_settings(tmp_path, environ={}))
    ctx.store.ensure_bucket()
    from pipeline.app import users
    from pipeline.core.vocabulary import Classification, Role

    admin = users.operator(ctx)
    for name in ("lan", "minh", "hoa", "tuan"):  # five events: four user.add, then one user.update
        users.add_user(ctx, admin, name, frozenset({Role.STAFF}), Classification.PUBLIC)
    users.update_user(ctx, admin, "lan", clearance=Classification.MAT)
    yield ctx, env
    ctx.close()


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ARCHIVE, *args], env=env, capture_output=True, text=True, timeout=120)


def _put(ctx: Context, seq: int, data: bytes) -> None:
    ctx.store.client.put_object(ctx.store.bucket, audit_log.segment_key(seq), io.BytesIO(data), len(data))


def _get(ctx: Context, seq: int) -> bytes:
    return ctx.store.get_bytes(audit_log.segment_key(seq))


def test_intact_trail_reports_how_many_it_checked(trail_home) -> None:
    _ctx, env = trail_home
    proc = _run(env, "audit", "verify")
    assert proc.returncode == 0, proc.stderr
    assert "Audit trail intact: 5 event(s) checked." in proc.stdout
    listed = json.loads(_run(env, "audit", "list", "--actor", "admin", "--json").stdout)
    assert [e["action"] for e in listed][:5] == ["user.add"] * 4 + ["user.update"]


def test_a_changed_event_is_named(trail_home) -> None:
    ctx, env = trail_home
    event = json.loads(_get(ctx, 3))
    event["object"] = "mallory"
    _put(ctx, 3, (json.dumps(event, ensure_ascii=False) + "\n").encode())
    proc = _run(env, "audit", "verify")
    assert proc.returncode == 1
    assert "event 3" in proc.stderr and "changed" in proc.stderr, proc.stderr


def test_a_removed_event_is_named(trail_home) -> None:
    ctx, env = trail_home
    ctx.store.client.remove_object(ctx.store.bucket, audit_log.segment_key(2))  # a delete marker
    proc = _run(env, "audit", "verify")
    assert proc.returncode == 1
    assert "event 2" in proc.stderr and ("missing" in proc.stderr.lower() or "removed" in proc.stderr), proc.stderr


def test_reordered_events_are_named(trail_home) -> None:
    ctx, env = trail_home
    two, four = _get(ctx, 2), _get(ctx, 4)
    _put(ctx, 2, four)
    _put(ctx, 4, two)
    proc = _run(env, "audit", "verify")
    assert proc.returncode == 1
    assert "out of" in proc.stderr or "reorder" in proc.stderr, proc.stderr
    assert "event 4" in proc.stderr or "event 2" in proc.stderr


def test_catalog_rebuilt_from_s3_equals_the_live_one(trail_home) -> None:
    ctx, _env = trail_home
    live = ctx.catalog.snapshot()
    fresh = Context(ctx.settings.model_copy(update={"catalog": ctx.settings.catalog.model_copy(
        update={"url": f"sqlite:///{ctx.settings.home / 'rebuilt.sqlite'}"})}))
    try:
        from pipeline.app.indexing import rebuild
        from pipeline.app.users import operator

        rebuild(fresh, operator(fresh))
        rebuilt = fresh.catalog.snapshot()
    finally:
        fresh.close()
    rebuilt["audit"] = rebuilt["audit"][:-1]  # the rebuild itself is the one new event
    assert rebuilt == live


def test_search_on_an_empty_index_says_so(trail_home) -> None:
    _ctx, env = trail_home
    proc = _run(env, "search", "van ban")
    assert proc.returncode == 0 and "The search index is empty" in proc.stdout, proc.stdout + proc.stderr
