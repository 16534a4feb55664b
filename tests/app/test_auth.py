"""Sign-in core (issue 13): argon2 passwords, API tokens, browser sessions and the sign-in throttle, on a real
catalog (SQLite file and a real PostgreSQL server) and a real audit trail in S3; `archive user passwd|token|
tokens|revoke` end to end; a reindex keeps credentials, a rebuild from S3 has none, the trail holds no secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from pipeline.app import auth, auth_sessions, auth_tokens
from pipeline.app.auth import AuthFailed, Limits, Passwords, RateLimited, set_password, sign_in, verify_password
from pipeline.app.auth_sessions import create_session, csrf_ok, end_session, end_user_sessions, lookup_session
from pipeline.app.auth_tokens import authenticate_token, issue_token, list_tokens, revoke_token
from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.app.users import add_user, operator, update_user
from pipeline.core.actor import AccessDenied, Actor
from pipeline.core.record import utcnow
from pipeline.core.settings import Settings, load_settings, write_settings
from pipeline.core.vocabulary import Classification, Role
from tests.catalog.conftest import DatabaseFactory, start_postgres

ARCHIVE = str(Path(sys.executable).parent / "archive")
PW = "Mật khẩu rất dài 2026"  # Vietnamese, with marks
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class CountingHasher(PasswordHasher):
    calls = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        CountingHasher.calls += 1
        return super().verify(hash, password)


@pytest.fixture(scope="session")
def auth_postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, stop = start_postgres(tmp_path_factory.mktemp("auth-pg"))
    try:
        yield url
    finally:
        stop()


def _settings(s3_server: Settings, home: Path, catalog_url: str = "") -> Settings:
    settings = load_settings(home, environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"auth-{uuid.uuid4().hex[:10]}"})
    settings.s3.manage_local = False
    settings.catalog.url = catalog_url
    return settings


@pytest.fixture(params=["sqlite", "postgresql"])
def ctx(request: pytest.FixtureRequest, s3_server: Settings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    pg = request.getfixturevalue("auth_postgres_url") if request.param == "postgresql" else None
    databases = DatabaseFactory(request.param, tmp_path, pg)
    monkeypatch.setattr(auth, "PASSWORDS", Passwords(CHEAP))
    context = Context(_settings(s3_server, tmp_path / "home", databases.new_url()))
    context.store.ensure_bucket()
    admin = operator(context)
    for name, role in (("lan", Role.STAFF), ("minh", Role.ARCHIVIST), ("nguyen.van.an", Role.STAFF)):
        add_user(context, admin, name, frozenset({role}), Classification.MAT)
    try:
        yield context
    finally:
        context.close()
        databases.cleanup()


def lan(ctx: Context) -> Actor:
    return ctx.catalog.get_user("lan").actor()


def at(module: object, monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(module, "utcnow", lambda: when)


# ---- passwords --------------------------------------------------------------------------------------
def test_password_rules_and_who_may_set_one(ctx: Context) -> None:
    admin = operator(ctx)
    for bad, why in (("", "empty"), ("   ", "empty"), ("ngắn-quá", "too short"), ("x" * 1025, "too long"),
                     ("Nguyen.Van.An", "user name")):
        with pytest.raises(Invalid, match=why):
            set_password(ctx, admin, "nguyen.van.an", bad)
    with pytest.raises(NotFound):
        set_password(ctx, admin, "ghost", PW)
    set_password(ctx, admin, "minh", PW)  # an admin sets anyone's
    set_password(ctx, lan(ctx), "lan", PW + "!")  # a user sets their own
    with pytest.raises(AccessDenied, match="needs the admin role"):
        set_password(ctx, lan(ctx), "minh", "a different long password")
    stored = ctx.catalog.get_user("minh").password_hash
    assert stored.startswith("$argon2id$") and PW not in stored
    assert verify_password(ctx, "minh", PW) == ctx.catalog.get_user("minh").actor()
    assert verify_password(ctx, "minh", unicodedata.normalize("NFD", PW)) is not None  # typed decomposed
    assert verify_password(ctx, "minh", PW + "!") is None
    assert verify_password(ctx, "lan", PW + "!") is not None
    events = [e for e in ctx.catalog.query_audit() if e["action"] == "user.passwd"]
    assert [(e["actor"], e["object"]) for e in events] == [("admin", "minh"), ("lan", "lan")]


def test_unknown_disabled_and_passwordless_users_are_refused_at_the_same_cost(
        ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "PASSWORDS", Passwords(CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)))
    set_password(ctx, operator(ctx), "lan", PW)
    CountingHasher.calls = 0
    assert verify_password(ctx, "nobody", PW) is None
    assert verify_password(ctx, "minh", PW) is None  # has no password yet
    assert verify_password(ctx, "x" * 500, PW) is None
    assert CountingHasher.calls == 3  # each one hashed (a dummy), like a real user
    update_user(ctx, operator(ctx), "lan", disabled=True)
    assert verify_password(ctx, "lan", PW) is None
    assert CountingHasher.calls == 4


def test_hash_is_upgraded_when_the_argon2_parameters_change(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    set_password(ctx, operator(ctx), "lan", PW)
    old = ctx.catalog.get_user("lan").password_hash
    assert "m=1024,t=1,p=1" in old
    monkeypatch.setattr(auth, "PASSWORDS", Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)))
    assert verify_password(ctx, "lan", "wrong password, long enough") is None
    assert ctx.catalog.get_user("lan").password_hash == old  # only a correct password is rehashed
    assert verify_password(ctx, "lan", PW) is not None
    new = ctx.catalog.get_user("lan").password_hash
    assert "m=2048,t=2,p=1" in new and new != old
    assert verify_password(ctx, "lan", PW) is not None
    assert [e["action"] for e in ctx.catalog.query_audit()].count("user.rehash") == 1


# ---- sign-in and its throttle -----------------------------------------------------------------------
def test_sign_in_is_rate_limited_per_name_and_per_client(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = Limits(per_name=3, per_client=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
    for name in ("lan", "minh"):
        set_password(ctx, operator(ctx), name, PW)
    t0 = utcnow()
    at(auth, monkeypatch, t0)
    assert sign_in(ctx, "lan", PW, "10.0.0.1", limits=limits).name == "lan"
    for _ in range(3):
        with pytest.raises(AuthFailed, match=r"^wrong user name or password$"):
            sign_in(ctx, "lan", "wrong password, long enough", "10.0.0.1", limits=limits)
    with pytest.raises(RateLimited, match="try again in 15 minutes") as refused:
        sign_in(ctx, "lan", PW, "10.0.0.2", limits=limits)  # the right password, another client: still refused
    assert refused.value.retry_after == 900
    assert sign_in(ctx, "minh", PW, "10.0.0.1", limits=limits).name == "minh"  # the client is not blocked
    at(auth, monkeypatch, t0 + timedelta(minutes=16))
    assert sign_in(ctx, "lan", PW, "10.0.0.1", limits=limits).name == "lan"

    # one client guessing many names: blocked on its own key, whatever the name
    for name in ("a1", "a2", "a3", "a4", "a5"):
        with pytest.raises(AuthFailed):
            sign_in(ctx, name, PW, "10.9.9.9", limits=limits)
    with pytest.raises(RateLimited):
        sign_in(ctx, "minh", PW, "10.9.9.9", limits=limits)
    assert sign_in(ctx, "minh", PW, "10.0.0.3", limits=limits).name == "minh"

    # a success clears the name's failures
    for _ in range(2):
        with pytest.raises(AuthFailed):
            sign_in(ctx, "minh", "wrong password, long enough", "10.0.0.4", limits=limits)
    assert sign_in(ctx, "minh", PW, "10.0.0.4", limits=limits).name == "minh"
    for _ in range(2):
        with pytest.raises(AuthFailed):
            sign_in(ctx, "minh", "wrong password, long enough", "10.0.0.4", limits=limits)
    assert sign_in(ctx, "minh", PW, "10.0.0.4", limits=limits).name == "minh"

    signins = [e for e in ctx.catalog.query_audit() if e["action"] == "user.signin"]
    assert {e["object"] for e in signins} == {"lan", "minh"} and signins[0]["detail"] == {"client": "10.0.0.1"}


def test_parallel_guesses_cannot_outrun_the_limit(ctx: Context) -> None:
    set_password(ctx, operator(ctx), "lan", PW)
    limits = Limits(per_name=4, per_client=100)
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def guess(i: int) -> None:
        barrier.wait()
        try:
            sign_in(ctx, "lan", f"guess number {i:04d}", f"10.1.0.{i}", limits=limits)
            outcomes.append("in")
        except (AuthFailed, RateLimited) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["AuthFailed"] * 4 + ["RateLimited"] * 6


def test_a_password_change_asks_for_the_current_one_and_ends_sessions(ctx: Context) -> None:
    set_password(ctx, operator(ctx), "lan", PW)
    session = create_session(ctx, lan(ctx), "10.0.0.1")
    with pytest.raises(AuthFailed):
        auth.change_password(ctx, lan(ctx), "not the current one", "a brand new password")
    assert lookup_session(ctx, session.session_id) is not None
    auth.change_password(ctx, lan(ctx), PW, "a brand new password")
    assert lookup_session(ctx, session.session_id) is None
    assert verify_password(ctx, "lan", "a brand new password") is not None and verify_password(ctx, "lan", PW) is None


# ---- API tokens -------------------------------------------------------------------------------------
def test_api_tokens(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = operator(ctx)
    issued = issue_token(ctx, admin, "lan", "máy quét tầng 2", expires_days=30)
    assert issued.token.startswith("arc_") and len(issued.token) == 47 and issued.token not in repr(issued)
    assert authenticate_token(ctx, issued.token) == lan(ctx)
    for bad in ("", "arc_", issued.token[:-1] + "A" if issued.token[-1] != "A" else issued.token[:-1] + "B",
                "Bearer " + issued.token, "arc_" + "x" * 500):
        assert authenticate_token(ctx, bad) is None
    [listed] = list_tokens(ctx, admin, "lan")
    assert listed["id"] == issued.id and listed["label"] == "máy quét tầng 2" and listed["state"] == "active"
    assert listed["last_used_at"] is not None and listed["created_by"] == "admin"
    assert issued.token not in json.dumps(listed, default=str)

    update_user(ctx, admin, "lan", clearance=Classification.TUYET_MAT)  # the token acts with the current clearance
    assert authenticate_token(ctx, issued.token).clearance is Classification.TUYET_MAT
    update_user(ctx, admin, "lan", disabled=True)
    assert authenticate_token(ctx, issued.token) is None
    with pytest.raises(Invalid, match="disabled"):
        issue_token(ctx, admin, "lan")
    update_user(ctx, admin, "lan", disabled=False)
    assert authenticate_token(ctx, issued.token) is not None

    own = issue_token(ctx, lan(ctx), "lan", "own")  # a user issues their own ...
    with pytest.raises(AccessDenied):
        issue_token(ctx, lan(ctx), "minh")  # ... not someone else's
    minhs = issue_token(ctx, admin, "minh")
    with pytest.raises(NotFound):
        revoke_token(ctx, lan(ctx), minhs.id)  # another user's token does not exist for lan
    with pytest.raises(AccessDenied):
        list_tokens(ctx, lan(ctx), "minh")
    for days in (0, 3651):
        with pytest.raises(Invalid):
            issue_token(ctx, admin, "minh", expires_days=days)

    assert revoke_token(ctx, lan(ctx), issued.id)["state"] == "revoked"
    assert authenticate_token(ctx, issued.token) is None
    with pytest.raises(Invalid, match="revoked already"):
        revoke_token(ctx, admin, issued.id)
    with pytest.raises(NotFound) as missing:
        revoke_token(ctx, admin, "arc_" + "y" * 43)
    assert "arc_" not in str(missing.value)  # a token given is never echoed
    assert revoke_token(ctx, admin, own.token)["id"] == own.id  # a leaked token can be revoked as it is

    at(auth_tokens, monkeypatch, utcnow() + timedelta(days=91))
    assert authenticate_token(ctx, minhs.token) is None
    assert [t["state"] for t in list_tokens(ctx, admin, "minh")] == ["expired"]
    assert [(e["action"], e["object"], e["detail"].get("token_id")) for e in ctx.catalog.query_audit()
            if e["action"].startswith("user.token")] == [
        ("user.token.issue", "lan", issued.id), ("user.token.issue", "lan", own.id),
        ("user.token.issue", "minh", minhs.id), ("user.token.revoke", "lan", issued.id),
        ("user.token.revoke", "lan", own.id)]


# ---- browser sessions -------------------------------------------------------------------------------
def test_browser_sessions(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = utcnow()
    new = create_session(ctx, lan(ctx), "10.0.0.1", lifetime=timedelta(hours=8), idle=timedelta(minutes=30))
    assert new.session_id not in repr(new) and new.csrf_token not in repr(new)
    assert t0 + timedelta(hours=8) <= new.expires_at <= t0 + timedelta(hours=8, minutes=1)
    found = lookup_session(ctx, new.session_id)
    assert found is not None and found.actor == lan(ctx)
    assert csrf_ok(found, new.csrf_token) and not csrf_ok(found, new.csrf_token[:-1]) and not csrf_ok(found, None)
    assert lookup_session(ctx, new.session_id + "x") is None and lookup_session(ctx, "") is None
    short = create_session(ctx, lan(ctx), idle=timedelta(minutes=10))
    assert short.session_id != new.session_id and short.csrf_token != new.csrf_token

    at(auth_sessions, monkeypatch, t0 + timedelta(minutes=25))
    assert lookup_session(ctx, short.session_id) is None  # idle for 25 minutes, 10 allowed
    assert lookup_session(ctx, new.session_id) is not None  # seen: its idle clock restarts
    at(auth_sessions, monkeypatch, t0 + timedelta(minutes=50))
    assert lookup_session(ctx, new.session_id) is not None  # 25 minutes since it was seen
    at(auth_sessions, monkeypatch, t0 + timedelta(minutes=90))
    assert lookup_session(ctx, new.session_id) is None  # 40 minutes idle
    again = create_session(ctx, lan(ctx), lifetime=timedelta(hours=1))
    for minutes in (30, 60):  # seen every half hour, but its absolute end comes first
        at(auth_sessions, monkeypatch, t0 + timedelta(minutes=90 + minutes))
        assert (lookup_session(ctx, again.session_id) is None) is (minutes == 60)

    monkeypatch.setattr(auth_sessions, "utcnow", utcnow)
    third = create_session(ctx, lan(ctx))
    update_user(ctx, operator(ctx), "lan", disabled=True)
    assert lookup_session(ctx, third.session_id) is None
    update_user(ctx, operator(ctx), "lan", disabled=False)
    assert lookup_session(ctx, third.session_id) is not None
    assert end_session(ctx, third.session_id) and lookup_session(ctx, third.session_id) is None
    assert not end_session(ctx, third.session_id)
    a, b = create_session(ctx, lan(ctx)), create_session(ctx, lan(ctx))
    with pytest.raises(AccessDenied):
        end_user_sessions(ctx, ctx.catalog.get_user("minh").actor(), "lan")
    assert end_user_sessions(ctx, lan(ctx), "lan") >= 2
    assert lookup_session(ctx, a.session_id) is None and lookup_session(ctx, b.session_id) is None
    with pytest.raises(AuthFailed):
        create_session(ctx, Actor("ghost", frozenset({Role.ADMIN})))


# ---- reindex, rebuild from S3, and the trail ---------------------------------------------------------
def test_reindex_keeps_credentials_a_rebuild_from_s3_has_none_and_the_trail_holds_no_secret(
        ctx: Context, tmp_path: Path) -> None:
    from pipeline.app.indexing import rebuild

    admin = operator(ctx)
    set_password(ctx, admin, "lan", PW)
    stored = ctx.catalog.get_user("lan").password_hash
    token = issue_token(ctx, admin, "lan", "ci")
    revoked = issue_token(ctx, admin, "minh")
    revoke_token(ctx, admin, revoked.id)
    sign_in(ctx, "lan", PW, "10.0.0.1")
    session = create_session(ctx, lan(ctx), "10.0.0.1")

    assert rebuild(ctx, admin).users == 3  # `archive reindex` on the live catalog
    assert verify_password(ctx, "lan", PW) == lan(ctx)
    assert authenticate_token(ctx, token.token) == lan(ctx) and authenticate_token(ctx, revoked.token) is None
    assert lookup_session(ctx, session.session_id) is not None

    trail = "\n".join(e.model_dump_json() for e in ctx.store.read_audit())
    mirror = json.dumps(ctx.catalog.query_audit(), default=str)
    actions = {e["action"] for e in ctx.catalog.query_audit()}
    assert {"user.passwd", "user.token.issue", "user.token.revoke", "user.signin"} <= actions
    for secret in (PW, stored, "$argon2", token.token, revoked.token, auth_tokens.token_hash(token.token),
                   session.session_id, session.csrf_token):
        assert secret not in trail and secret not in mirror

    settings = ctx.settings.model_copy(deep=True)
    settings.catalog.url = f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"
    settings.search.index_dir = str(tmp_path / "rebuilt-index")
    with Context(settings) as fresh:  # the catalog lost: rebuilt from S3 alone
        rebuild(fresh, operator(fresh))
        row = fresh.catalog.get_user("lan")
        assert row.actor() == lan(ctx) and row.password_hash is None  # the user, not the password
        assert verify_password(fresh, "lan", PW) is None
        assert authenticate_token(fresh, token.token) is None and list_tokens(fresh, operator(fresh), "lan") == []
        assert lookup_session(fresh, session.session_id) is None


# ---- the CLI ----------------------------------------------------------------------------------------
@pytest.fixture
def cli_home(s3_server: Settings, tmp_path: Path) -> Iterator[tuple[Context, dict[str, str]]]:
    settings = _settings(s3_server, tmp_path)
    write_settings(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {"ARCHIVE_HOME": str(tmp_path)}
    context = Context(load_settings(tmp_path, environ={}))
    context.store.ensure_bucket()
    try:
        yield context, env
    finally:
        context.close()


def archive(env: dict[str, str], *args: str, stdin: str = "", user: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = env | ({"ARCHIVE_USER": user} if user else {})
    return subprocess.run([ARCHIVE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_cli_passwords_and_tokens(cli_home: tuple[Context, dict[str, str]]) -> None:
    ctx, env = cli_home
    for name in ("lan", "minh"):
        assert archive(env, "user", "add", name, "--role", "staff").returncode == 0
    for line, why in (("\n", "empty"), ("ngắn quá\n", "too short"), ("lan\n", "too short")):
        done = archive(env, "user", "passwd", "lan", "--password-stdin", stdin=line)
        assert done.returncode == 1 and why in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    done = archive(env, "user", "passwd", "lan")  # no terminal, no --password-stdin
    assert done.returncode == 1 and "--password-stdin" in done.stderr
    done = archive(env, "user", "passwd", "lan", "--password-stdin", stdin=PW + "\nsecond line ignored\n")
    assert done.returncode == 0, done.stderr
    done = archive(env, "user", "passwd", "minh", "--password-stdin", stdin=PW + "\n", user="lan")
    assert done.returncode == 1 and "needs the admin role" in done.stderr
    assert archive(env, "user", "passwd", "lan", "--password-stdin", stdin=PW + "?\r\n", user="lan").returncode == 0
    assert verify_password(ctx, "lan", PW + "?") == ctx.catalog.get_user("lan").actor()  # default argon2 params

    done = archive(env, "user", "token", "lan", "--label", "máy quét", "--expires-days", "30")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert done.stdout == token + "\n" and token.startswith("arc_") and "not shown again" in done.stderr
    assert authenticate_token(ctx, token) is not None
    listed = archive(env, "user", "tokens", "lan", "--json")
    [row] = json.loads(listed.stdout)
    assert row["label"] == "máy quét" and row["state"] == "active" and token not in listed.stdout
    table = archive(env, "user", "tokens", "lan")
    assert table.returncode == 0 and row["id"] in table.stdout and token not in table.stdout
    done = archive(env, "user", "revoke", row["id"], user="minh")
    assert done.returncode == 1 and "no API token" in done.stderr
    done = archive(env, "user", "revoke", row["id"])
    assert done.returncode == 0 and "Revoked" in done.stdout
    assert authenticate_token(ctx, token) is None
    assert archive(env, "user", "token", "lan", "--expires-days", "0").returncode == 2  # a usage error

    trail = "\n".join(e.model_dump_json() for e in ctx.store.read_audit())
    assert token not in trail and PW not in trail and "$argon2" not in trail
    assert '"user.passwd"' in trail and '"user.token.revoke"' in trail
