"""The local S3 server manager on its own instance (not the session one): lifecycle, loopback-only
listeners, credentials, mutual-TLS and JWT-protected filer, fail-closed TLS, data surviving a restart.
(The attacks on the internals run for real in tests/security/.)"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from minio.error import S3Error

from pipeline.core.settings import Settings
from pipeline.devtools.services import s3security
from pipeline.devtools.services.s3local import S3ServerError, s3_status, start_s3, stop_s3
from pipeline.devtools.services.s3security import client_tls
from tests.conftest import s3_test_settings
from tests.procnet import listeners


def _listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state owned by ``pid``."""
    return {(address, port) for port, (address, _pid, _cmd) in listeners({pid: ""}).items()}


@pytest.fixture(scope="module")
def own_instance(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = s3_test_settings(tmp_path_factory.mktemp("s3-lifecycle"))
    yield settings
    stop_s3(settings)


def test_lifecycle(own_instance: Settings) -> None:
    settings = own_instance
    assert s3_status(settings)["running"] is False
    stop_s3(settings)  # stopping a stopped server is fine

    # Started from another process that then exits, as `archive services up` does: it must survive.
    code = ("import sys; from pathlib import Path; from pipeline.core.settings import load_settings; "
            "from pipeline.devtools.services.s3local import start_s3; start_s3(load_settings(Path(sys.argv[1]), "
            "environ=dict(a.split('=', 1) for a in sys.argv[2:])))")
    env_args = [f"ARCHIVE_S3__{k.upper()}={v}" for k, v in settings.s3.model_dump().items()]
    subprocess.run([sys.executable, "-c", code, str(settings.home), *env_args], check=True, timeout=90,
                   cwd=Path(__file__).resolve().parents[2])
    status = s3_status(settings)
    assert status["running"] is True and status["healthy"] is True
    assert status["endpoint"] == settings.s3.endpoint
    pid = status["pid"]
    assert Path(status["log"]).is_file()

    start_s3(settings)  # idempotent: already running and healthy
    assert s3_status(settings)["pid"] == pid

    # Every listener on loopback, on exactly our configured ports (+ their gRPC ports) and the admin's.
    listeners = _listening(pid)
    assert listeners and {addr for addr, _ in listeners} == {"127.0.0.1"}
    ports = {port for _, port in listeners}
    s3_port = int(settings.s3.endpoint.rsplit(":", 1)[1])
    configured = {s3_port, settings.s3.filer_port, settings.s3.master_port, settings.s3.volume_port}
    assert configured | {p + 10000 for p in configured} <= ports
    recorded = status["ports"]
    assert ports <= set(recorded.values())  # nothing else: mini's admin listens on its recorded ports
    assert set(recorded) == {"s3", "filer", "master", "volume", "admin", "s3.grpc", "filer.grpc",
                             "master.grpc", "volume.grpc", "admin.grpc"}

    # Data survives a stop/start cycle.
    client = Minio(settings.s3.endpoint, settings.s3.access_key, settings.s3.secret_key, secure=False)
    client.make_bucket("survivor")
    client.put_object("survivor", "bản-ghi.txt", io.BytesIO("dữ liệu".encode()), len("dữ liệu".encode()))
    stop_s3(settings)
    assert s3_status(settings) | {"log": None, "data_dir": None} == {
        "running": False, "pid": None, "endpoint": settings.s3.endpoint, "healthy": False, "ports": {},
        "log": None, "data_dir": None}
    stop_s3(settings)
    start_s3(settings)
    assert client.get_object("survivor", "bản-ghi.txt").read().decode() == "dữ liệu"


def test_credentials_and_filer_jwt(own_instance: Settings) -> None:
    settings = own_instance
    start_s3(settings)
    fast = urllib3.PoolManager(retries=urllib3.Retry(total=0))
    intruder = Minio(settings.s3.endpoint, settings.s3.access_key, "wrong-secret", secure=False,
                     http_client=fast)
    with pytest.raises(S3Error) as denied:
        intruder.list_buckets()
    assert denied.value.code in {"SignatureDoesNotMatch", "AccessDenied", "InvalidAccessKeyId"}
    anonymous = fast.request("GET", f"http://{settings.s3.endpoint}/")
    assert anonymous.status == 403

    # The filer's HTTP asks for our client certificate (mutual TLS), then for the generated JWTs.
    owner = Minio(settings.s3.endpoint, settings.s3.access_key, settings.s3.secret_key, secure=False)
    if not owner.bucket_exists("jwt-probe"):
        owner.make_bucket("jwt-probe")
    owner.put_object("jwt-probe", "secret.txt", io.BytesIO(b"classified"), 10)
    config = settings.services_dir / "s3" / "config"
    plain = fast.request("GET", f"http://127.0.0.1:{settings.s3.filer_port}/buckets/jwt-probe/secret.txt")
    assert plain.status == 400 and b"HTTPS server" in plain.data and b"classified" not in plain.data
    ours = urllib3.PoolManager(retries=urllib3.Retry(total=0), **client_tls(config))
    filer = f"https://127.0.0.1:{settings.s3.filer_port}"
    read = ours.request("GET", f"{filer}/buckets/jwt-probe/secret.txt")
    assert read.status == 401 and b"classified" not in read.data
    resp = ours.request("POST", f"{filer}/sneaky/file.txt", fields={"file": ("file.txt", b"x")})
    assert resp.status == 401, resp.data
    security = (config / "security.toml").read_text()
    assert all(f"[{section}]" in security for section in (
        "jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read", "grpc",
        "grpc.master", "grpc.volume", "grpc.filer", "grpc.s3", "grpc.admin", "grpc.worker", "grpc.client",
        "https.master", "https.volume", "https.filer", "https.admin", "https.client"))
    assert oct((config / "security.toml").stat().st_mode & 0o777) == "0o600"
    tls = config / "tls"
    assert oct(tls.stat().st_mode & 0o777) == "0o700"
    assert {p.name for p in tls.iterdir()} >= {"ca.crt", "client.crt", "client.key", "master.key"}
    assert "ca.key" not in {p.name for p in tls.iterdir()}  # the CA key is never written
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in tls.iterdir())


def test_tls_that_fails_to_load_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SeaweedFS serves plaintext gRPC when its TLS settings fail to load: start_s3 must refuse then."""
    settings = s3_test_settings(tmp_path / "home")
    original = s3security.security_toml
    monkeypatch.setattr(s3security, "security_toml",
                        lambda pki: original(pki).replace('max_version = "TLS 1.3"', 'max_version = "TLS 1.2"'))
    try:
        with pytest.raises(S3ServerError, match="could not load its TLS settings"):
            start_s3(settings, timeout_s=30)
        assert s3_status(settings)["running"] is False
    finally:
        stop_s3(settings)


def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    settings = s3_test_settings(tmp_path / "home")
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", settings.s3.filer_port))
        squatter.listen()
        with pytest.raises(S3ServerError, match=f"filer={settings.s3.filer_port}"):
            start_s3(settings)
    assert s3_status(settings)["running"] is False


def test_non_loopback_endpoint_is_refused(tmp_path: Path) -> None:
    settings = s3_test_settings(tmp_path / "home")
    settings = settings.model_copy(update={"s3": settings.s3.model_copy(update={"endpoint": "10.1.2.3:9000"})})
    with pytest.raises(S3ServerError, match="loopback"):
        start_s3(settings)
