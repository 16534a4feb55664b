"""Catalog fixtures: the same tests run against SQLite and a real PostgreSQL server.

``start_postgres`` is self-contained (it can move to tests/conftest.py as it is): Debian's PostgreSQL binaries,
a throwaway cluster on a free loopback port, password (SCRAM) authentication only, stopped at session end.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.catalog import Catalog

PG_ROOT = Path("/usr/lib/postgresql")
PG_USER = "archive"  # the cluster's superuser (initdb -U); the OS user is `postgres` when we are root
PG_DATABASE = "archive"


def postgres_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb, else the directory of ``initdb`` on PATH."""
    versions = sorted((d for d in PG_ROOT.glob("*") if (d / "bin" / "initdb").is_file() and d.name.isdigit()),
                      key=lambda d: int(d.name)) if PG_ROOT.is_dir() else []
    if versions:
        return versions[-1] / "bin"
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _traversable_tmp() -> str:
    """A temp root every user can traverse (the postgres user must reach its data dir inside it)."""
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
        path = Path(candidate).resolve()
        if path.is_dir() and all(p.stat().st_mode & 0o001 for p in (path, *path.parents)):
            return str(path)
    raise RuntimeError("no temp directory traversable by the postgres user")


def start_postgres(tmp_dir: Path) -> tuple[str, Callable[[], None]]:
    """Start a private PostgreSQL cluster; return (SQLAlchemy URL of database ``archive``, stop function).

    As root (CI), the server runs as the ``postgres`` OS user (PostgreSQL refuses root) in a fresh directory
    owned by it under the system temp dir (pytest's temp dirs are 0700 root); otherwise inside ``tmp_dir``."""
    bindir = postgres_bin_dir()
    as_root = os.geteuid() == 0
    if as_root:
        base = Path(tempfile.mkdtemp(prefix="archive-pg-", dir=_traversable_tmp()))
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        runuser = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin")
        if runuser is None:
            raise RuntimeError("runuser not found: needed to run PostgreSQL as the postgres user")
        prefix = [runuser, "-u", "postgres", "--"]
    else:
        base = Path(tempfile.mkdtemp(prefix="pg-", dir=tmp_dir))
        owner, prefix = None, []
    data, sockets, pwfile, log = base / "data", base / "sockets", base / "pwfile", base / "server.log"
    password = secrets.token_urlsafe(24)
    sockets.mkdir(mode=0o700)
    pwfile.write_text(password + "\n", encoding="utf-8")
    pwfile.chmod(0o600)
    if owner is not None:
        for path in (sockets, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}

    def run(*args: str, timeout: float = 120) -> None:
        done = subprocess.run([*prefix, *args], cwd=base, env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}\n{server_log}")

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=scram-sha-256", f"--pwfile={pwfile}",
            "--encoding=UTF8", "--locale=C", "--no-sync")
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    pwfile.unlink()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        try:
            run(str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w", "-t", "60")
        finally:
            shutil.rmtree(base, ignore_errors=True)

    last_error: Exception | None = None
    for _attempt in range(3):  # the free port may be taken between the probe and the server's bind
        port = _free_port()
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"\n# test cluster\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                       f"unix_socket_directories = '{sockets}'\nfsync = off\nsynchronous_commit = off\n"
                       "full_page_writes = off\nmax_connections = 40\nshared_buffers = 32MB\n")
        try:
            run(str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w", "-t", "60")
        except RuntimeError as exc:
            last_error = exc
            continue
        try:
            _create_database(f"postgresql+psycopg://{PG_USER}:{password}@127.0.0.1:{port}/postgres", PG_DATABASE)
        except Exception:
            stop()
            raise
        return f"postgresql+psycopg://{PG_USER}:{password}@127.0.0.1:{port}/{PG_DATABASE}", stop
    shutil.rmtree(base, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {last_error}")


def _create_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def _drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of database ``archive`` on a real PostgreSQL server started for this session."""
    url, stop = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield url
    finally:
        stop()


ENGINES = ["sqlite", "postgresql"]


class DatabaseFactory:
    """Fresh, empty catalog databases of one engine; PostgreSQL ones are dropped at teardown."""

    def __init__(self, engine: str, tmp_path: Path, postgres_url: str | None) -> None:
        self.engine, self._tmp, self._pg = engine, tmp_path, postgres_url
        self._made: list[str] = []

    def new_url(self) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        if self.engine == "sqlite":
            return f"sqlite:///{self._tmp / (name + '.sqlite')}"
        assert self._pg is not None
        server = self._pg.rsplit("/", 1)[0]
        _create_database(server + "/postgres", name)
        self._made.append(name)
        return f"{server}/{name}"

    def cleanup(self) -> None:
        if self._pg is not None:
            server = self._pg.rsplit("/", 1)[0]
            for name in self._made:
                _drop_database(server + "/postgres", name)


@pytest.fixture(params=ENGINES)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseFactory]:
    pg = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    factory = DatabaseFactory(request.param, tmp_path, pg)
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture
def catalog_url(databases: DatabaseFactory) -> str:
    return databases.new_url()


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    cat = Catalog(catalog_url)
    try:
        yield cat
    finally:
        cat.close()
