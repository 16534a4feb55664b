"""Application-layer fixtures: a real S3 server (session), a fresh bucket, SQLite catalog and home per module,
the TEST PKI with its OCSP/CRL responders running (signing needs a revocation answer, at B-B too), and a small
batch ingested in-process with a `Tuyệt mật` document."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.app.context import Context
from pipeline.core.settings import Settings, load_settings, write_settings

ARCHIVE = str(Path(sys.executable).parent / "archive")
SECRET_TITLE = "Kế hoạch phòng thủ dân sự tuyệt mật"
HEADER = "path,doc_number,doc_type,title,issuer,issued_date,signer,unit,classification,language\n"


@dataclass
class Home:
    settings: Settings
    env: dict[str, str]

    def context(self) -> Context:
        return Context(load_settings(self.settings.home, environ={}))

    def run(self, *args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if user:
            env["ARCHIVE_USER"] = user
        return subprocess.run([ARCHIVE, *args], env=env, capture_output=True, text=True, timeout=300)


@contextmanager
def build_home(s3_server: Settings, root: Path, prefix: str, level: str = "B-B") -> Iterator[Home]:
    """A home in ``root`` on a fresh bucket of the session's S3 server, signing at ``level`` with the TEST PKI
    (B-B: no TSA), its responders (OCSP, CRL, TSA) running while the context is open."""
    from pipeline.devtools import init_test_pki
    from pipeline.devtools.responders import Responders
    from pipeline.devtools.testconfig import use_test_pki
    from tests.sign.helpers import free_port

    settings = load_settings(root, environ={})
    settings.s3 = s3_server.s3.model_copy(update={"bucket": f"{prefix}-{uuid.uuid4().hex[:10]}"})
    settings.s3.manage_local = False
    settings.audit.seal_key = s3_server.audit.seal_key  # written to <home>/secrets by write_settings
    pki = init_test_pki(root / "pki", port=free_port())
    use_test_pki(settings, pki)
    settings.sign.level = level
    if level == "B-B":
        settings.sign.tsa_url = ""
    settings.executor = "local"
    write_settings(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update({"ARCHIVE_HOME": str(root), "OMP_THREAD_LIMIT": "1"})
    with Responders(pki.directory):
        yield Home(load_settings(root, environ={}), env)


@contextmanager
def unlocked_home(s3_server: Settings, root: Path, prefix: str) -> Iterator[Home]:
    """:func:`build_home` with ``retention.safety_days = 0`` (tests only): a document already past its retention
    when it arrives is not locked, so a test can destroy it at once."""
    from pipeline.core.settings import update_config

    with build_home(s3_server, root, prefix) as made:
        update_config(made.settings.home, {"retention.safety_days": 0})
        made.settings = load_settings(made.settings.home, environ={})
        yield made


@contextmanager
def keyed_worker(settings: Settings) -> Iterator[ModuleType]:
    """The worker module configured for ``settings`` with a fresh message key (the one beat signs with and the
    tasks verify), for running a beat task in-process; the previous configuration restored afterwards."""
    from pipeline.entry import worker as tasks

    saved = tasks._settings
    keyed = settings.model_copy(deep=True)
    keyed.redis.message_key = uuid.uuid4().hex
    tasks.configure(keyed)
    try:
        yield tasks
    finally:
        if saved is not None:
            tasks.configure(saved)


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("app-home"), "app") as made:
        yield made


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.devtools.samples.pdfs import make_born_digital_pdf

    root = tmp_path_factory.mktemp("batches") / "lo-app"
    make_born_digital_pdf(["CHỈ THỊ về văn bản điện tử công khai cho mọi người."], root / "cong-khai.pdf",
                          title="Chỉ thị công khai")
    make_born_digital_pdf([f"{SECRET_TITLE}. Phương án sơ tán kho lưu trữ quốc gia."], root / "tuyet-mat.pdf",
                          title=SECRET_TITLE)
    (root / "manifest.csv").write_text(
        HEADER
        + "cong-khai.pdf,01/CT-VP,Chỉ thị,Văn bản điện tử công khai,Văn phòng,2026-11-02,,Văn phòng,public,\n"
        + f"tuyet-mat.pdf,99/KH-QP,Kế hoạch,{SECRET_TITLE},Bộ Quốc phòng,20/11/2026,,Phòng Cơ yếu,Tuyệt mật,\n",
        encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def ingested(home: Home, batch: Path) -> dict[str, str]:
    """Source path → document id, ingested in-process as the local operator."""
    from pipeline.app.batches import ingest_batch
    from pipeline.app.users import resolve_actor

    with home.context() as ctx:
        report = ingest_batch(ctx, resolve_actor(ctx, None), batch, executor="local")
    assert report.ok, report.to_dict()
    return {d.source: d.id for d in report.documents}
