"""Issue 9, finding 1, run for real: the local S3 server's internals refuse everyone but our own tools.

The attacks of the review: an unprivileged local user (`nobody`) runs `weed shell` against the master and
tries `fs.ls`, `fs.cat` and `fs.rm` on a Tuyệt mật object version under COMPLIANCE retention and legal
hold; the same from root in a directory without our security.toml; a raw GET of the object's file id on
the volume port; reading the server's files. Each must be refused, for the reason asserted, while the
S3 API with the application's keys still reads the object and our own client certificate still works.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.retention import Retention

from pipeline.core.settings import Settings
from pipeline.devtools.services.s3local import find_weed, start_s3, stop_s3
from pipeline.devtools.services.s3security import client_tls, write_security
from tests.conftest import s3_test_settings

SECRET = "Tuyệt mật — kế hoạch bảo vệ kho lưu trữ, bản duy nhất"
SHELL_WAIT_S = 6.0  # weed shell retries a refused master for ever: we stop it after this
# What grpc-go reports when the server drops it: which one depends on who writes last (a race).
PLAINTEXT_DROPPED = ("error reading server preface: EOF", "write: broken pipe", "connection reset by peer")
CERT_REJECTED = ("remote error: tls: bad certificate", "write: broken pipe", "connection reset by peer")
NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")  # + empty SETTINGS

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="acting as `nobody` needs root and setpriv")


# ---- helpers (test_listeners.py uses them too) ---------------------------------------------------------


def config_dir(settings: Settings) -> Path:
    return settings.services_dir / "s3" / "config"


@contextlib.contextmanager
def nobody_dir() -> Iterator[Path]:
    """A scratch directory owned by `nobody` (in /tmp: pytest's own directories are 0700 to it)."""
    path = Path(tempfile.mkdtemp(prefix="archive-nobody-"))
    user = pwd.getpwnam("nobody")
    os.chown(path, user.pw_uid, user.pw_gid)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def chown_nobody(root: Path) -> None:
    user = pwd.getpwnam("nobody")
    for dirpath, _dirs, files in os.walk(root):
        for name in [".", *files]:
            os.chown(Path(dirpath, name), user.pw_uid, user.pw_gid)


@dataclass(frozen=True)
class ShellRun:
    finished: bool  # exited on its own (stdin done) within the wait; False: still retrying, killed
    output: str  # stdout and stderr, with gRPC's own log lines when asked for


def weed_shell(master_port: int, commands: list[str], *, cwd: Path, home: Path, as_nobody: bool = False,
               grpc_log: bool = False, wait_s: float = SHELL_WAIT_S) -> ShellRun:
    """`weed shell -master=127.0.0.1:<port>` in ``cwd`` (where it looks for ./security.toml) with
    ``commands`` on stdin. ``grpc_log`` turns on grpc-go's own logging: the shell itself only says
    "reconnection attempt", gRPC says why."""
    argv = [*(NOBODY if as_nobody else []), str(find_weed()), f"-logdir={home}", "shell",
            f"-master=127.0.0.1:{master_port}"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    if grpc_log:
        env |= {"GRPC_GO_LOG_SEVERITY_LEVEL": "info", "GRPC_GO_LOG_VERBOSITY_LEVEL": "2"}
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(("\n".join(commands) + "\n").encode(), timeout=wait_s)
        finished = True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        finished = False
    return ShellRun(finished, out.decode("utf-8", errors="replace"))


def plaintext_reply(port: int, payload: bytes = HTTP2_PREFACE) -> bytes:
    """What a port answers to ``payload`` sent in the clear (b"" when it just closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(payload)
        try:
            return sock.recv(200)
        except (ConnectionResetError, TimeoutError):
            return b""


def tls_without_client_cert(port: int, cert: Path | None = None, key: Path | None = None) -> str:
    """Speak TLS (trusting any server) with no client certificate, or with ``cert``/``key``; returns
    the error, "" if served."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    if cert is not None:
        context.load_cert_chain(cert, key)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            # TLS 1.3: the client's handshake ends before the server has judged its certificate; the
            # verdict (an alert) is what we read next. Nothing is sent, so no reset can race the alert.
            tls.recv(200)
            return ""
    except (ssl.SSLError, OSError) as exc:
        return str(exc)


def assert_tls_refuses(port: int) -> None:
    """Mutual TLS: nothing in the clear, and no service without a certificate of our CA."""
    reply = plaintext_reply(port)
    assert reply == b"" or b"Client sent an HTTP request to an HTTPS server" in reply, (port, reply)
    error = tls_without_client_cert(port)
    assert "CERTIFICATE_REQUIRED" in error or "certificate required" in error, (port, error)


def security_keys(settings: Settings) -> dict[str, str]:
    """The JWT keys of the running instance (root reads them; that is our own tool's privilege)."""
    with (config_dir(settings) / "security.toml").open("rb") as fh:
        toml = tomllib.load(fh)
    return {"write": toml["jwt"]["signing"]["key"], "read": toml["jwt"]["signing"]["read"]["key"]}


def mint_jwt(key: str, fid: str, ttl_s: int = 10) -> str:
    """A volume-server JWT as SeaweedFS's master mints it (HS256, claims fid and exp)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"fid": fid, "exp": int(time.time()) + ttl_s}).encode())
    signature = b64(hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def s3_client(settings: Settings) -> Minio:
    return Minio(settings.s3.endpoint, settings.s3.access_key, settings.s3.secret_key, secure=False)


# ---- the locked, classified object --------------------------------------------------------------------


@dataclass(frozen=True)
class Locked:
    settings: Settings
    bucket: str
    key: str
    version_id: str
    path: str  # the version's path in the filer
    fid: str  # its chunk's file id on the volume server
    scratch: Path  # root's scratch dir for our own shell


def our_shell(locked: Locked, commands: list[str]) -> ShellRun:
    """`weed shell` as our own tool: root, in the config dir, with our security.toml and certificate."""
    run = weed_shell(locked.settings.s3.master_port, commands, cwd=config_dir(locked.settings),
                     home=locked.scratch, wait_s=60)
    assert run.finished, run.output
    return run


@pytest.fixture(scope="module")
def locked(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Locked:
    client = s3_client(s3_server)
    bucket, key = "internals-tuyet-mat", "tuyet-mat.txt"
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket, object_lock=True)
    data = SECRET.encode()
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    put = client.put_object(bucket, key, io.BytesIO(data), len(data), retention=Retention(COMPLIANCE, until),
                            legal_hold=True)
    assert put.version_id
    path = f"/buckets/{bucket}/{key}.versions/v_{put.version_id}"
    partial = Locked(s3_server, bucket, key, put.version_id, path, "", tmp_path_factory.mktemp("our-shell"))
    # Positive control: with our certificate the very commands of the attack work.
    listing = our_shell(partial, [f"fs.ls -l /buckets/{bucket}/{key}.versions/", f"fs.cat {path}",
                                  f"fs.meta.cat {path}"])
    assert f"v_{put.version_id}" in listing.output and SECRET in listing.output, listing.output
    fid = re.search(r'"fileId":\s*"([^"]+)"', listing.output)
    assert fid, listing.output
    return Locked(s3_server, bucket, key, put.version_id, path, fid.group(1), partial.scratch)


def assert_intact(locked: Locked) -> None:
    """The version is still there, whole, still on legal hold; our shell still sees it."""
    client = s3_client(locked.settings)
    assert client.get_object(locked.bucket, locked.key, version_id=locked.version_id).read().decode() == SECRET
    assert client.is_object_legal_hold_enabled(locked.bucket, locked.key, version_id=locked.version_id)
    assert f"v_{locked.version_id}" in our_shell(locked, [f"fs.ls -l {Path(locked.path).parent}/"]).output


def _attack(locked: Locked) -> list[str]:
    return [f"fs.ls -l {Path(locked.path).parent}/", f"fs.cat {locked.path}", f"fs.rm {locked.path}"]


# ---- the attacks ---------------------------------------------------------------------------------------


def test_nobody_weed_shell_is_refused(locked: Locked) -> None:
    """The review's attack as it was: `nobody`, no configuration, plaintext gRPC to the master."""
    with nobody_dir() as scratch:
        run = weed_shell(locked.settings.s3.master_port, _attack(locked), cwd=scratch, home=scratch,
                         as_nobody=True, grpc_log=True)
    assert not run.finished, run.output  # never got a master connection, so no command ran
    assert SECRET not in run.output
    # The master's gRPC is TLS-only: it hangs up on a plaintext HTTP/2 client before any RPC.
    assert any(text in run.output for text in PLAINTEXT_DROPPED), run.output[-3000:]
    for port in (locked.settings.s3.master_port, locked.settings.s3.filer_port, locked.settings.s3.volume_port):
        assert_tls_refuses(port + 10000)  # what the shell would use next: gRPC of master, filer, volume
    assert_intact(locked)


def test_nobody_with_its_own_certificate_is_refused(locked: Locked) -> None:
    """A stronger `nobody`: TLS with a CA and client certificate of its own, trusting our (public) CA
    certificate so that it accepts our server. The server rejects its certificate in the handshake."""
    with nobody_dir() as scratch:
        pki = write_security(scratch / "config")  # its own CA, certificates and security.toml
        pki.ca.write_bytes(pki.ca.read_bytes() + (config_dir(locked.settings) / "tls" / "ca.crt").read_bytes())
        chown_nobody(scratch)
        run = weed_shell(locked.settings.s3.master_port, _attack(locked), cwd=scratch / "config", home=scratch,
                         as_nobody=True, grpc_log=True)
        # The server's verdict on that certificate, without grpc-go's race between alert and write.
        verdicts = [tls_without_client_cert(locked.settings.s3.master_port + offset, pki.cert("client"),
                                            pki.key("client")) for offset in (10000, 0)]  # gRPC, HTTPS
    assert not run.finished, run.output
    assert SECRET not in run.output
    assert any(text in run.output for text in CERT_REJECTED), run.output[-3000:]
    grpc_verdict, https_verdict = verdicts  # advancedtls rejects it as bad, crypto/tls as of an unknown CA
    assert "ALERT_BAD_CERTIFICATE" in grpc_verdict and "ALERT_UNKNOWN_CA" in https_verdict, verdicts
    assert_intact(locked)


def test_root_without_our_security_toml_is_refused(locked: Locked, tmp_path: Path) -> None:
    """Root too, from a directory without our security.toml: the refusal is the certificate, not the uid."""
    for elsewhere in (Path("/etc/seaweedfs/security.toml"), Path("/usr/local/etc/seaweedfs/security.toml")):
        if elsewhere.exists():
            pytest.skip(f"{elsewhere} exists: weed would read it")
    run = weed_shell(locked.settings.s3.master_port, _attack(locked), cwd=tmp_path, home=tmp_path, grpc_log=True)
    assert not run.finished and SECRET not in run.output
    assert any(text in run.output for text in PLAINTEXT_DROPPED), run.output[-3000:]
    assert_tls_refuses(locked.settings.s3.master_port + 10000)
    assert_intact(locked)


def test_volume_port_refuses_a_real_file_id(locked: Locked) -> None:
    """Raw reads of the object's real file id on the volume port: mutual TLS first, then a read JWT."""
    settings, fid = locked.settings, locked.fid
    url = f"127.0.0.1:{settings.s3.volume_port}/{fid}"
    fast = urllib3.PoolManager(retries=False, timeout=5)
    plain = fast.request("GET", f"http://{url}")
    assert plain.status == 400 and b"Client sent an HTTP request to an HTTPS server" in plain.data
    assert SECRET.encode() not in plain.data
    assert_tls_refuses(settings.s3.volume_port)

    # Even with our client certificate, a read needs a JWT signed with the read key for that fid.
    ours = urllib3.PoolManager(retries=False, timeout=5, **client_tls(config_dir(settings)))
    keys = security_keys(settings)
    for jwt in (None, mint_jwt("not-our-key-" + "0" * 40, fid), mint_jwt(keys["write"], fid),
                mint_jwt(keys["read"], fid.rsplit(",", 1)[0] + ",01deadbeef")):
        headers = {"Authorization": f"Bearer {jwt}"} if jwt else {}
        resp = ours.request("GET", f"https://{url}", headers=headers)
        assert resp.status == 401 and SECRET.encode() not in resp.data, (jwt, resp.status, resp.data[:200])
        assert b"jwt" in resp.data  # {"error":"wrong jwt"}
    # The fid is real and the JWT is what gates it: the read key opens it (only key holders have that).
    good = ours.request("GET", f"https://{url}", headers={"Authorization": f"Bearer {mint_jwt(keys['read'], fid)}"})
    assert good.status == 200 and good.data.decode() == SECRET

    # The master's HTTP API mints those JWTs (/dir/lookup): it is mutual TLS only.
    lookup = fast.request("GET", f"http://127.0.0.1:{settings.s3.master_port}/dir/lookup?fileId={fid}")
    assert lookup.status == 400 and b"auth" not in lookup.data
    assert_tls_refuses(settings.s3.master_port)
    # …while the application's S3 keys still read the object.
    assert s3_client(settings).get_object(locked.bucket, locked.key).read().decode() == SECRET


# ---- the files -----------------------------------------------------------------------------------------

NOBODY_PROBE = r"""
import json, os, socket, sys
opened = {}
for path in json.load(sys.stdin):
    try:
        if path.endswith(".sock"):
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(path)
        elif os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as fh:
                fh.read(1)
        opened[path] = "OPENED"
    except OSError as exc:
        opened[path] = exc.strerror
print(json.dumps(opened))
"""


def nobody_opens(paths: list[str]) -> dict[str, str]:
    """path → "OPENED" or the error, for `nobody` reading a file, listing a dir, connecting a socket."""
    out = subprocess.run([*NOBODY, sys.executable, "-I", "-c", NOBODY_PROBE], input=json.dumps(paths),
                         capture_output=True, text=True, check=True, timeout=60, cwd="/")
    return json.loads(out.stdout)


def owner_only_offenders(root: Path) -> list[str]:
    """Every file and directory under ``root`` (itself included) with a group/other bit. Exempt, and
    only in an owner-only directory: SeaweedFS's volume-info files (``<volume>.vif``: version,
    replication, sizes, no object data), which weed 4.48 fchmods to 0644 itself whatever the umask
    (see pipeline/devtools/services/s3security.py; tightened at every start and stop)."""
    found = []
    for dirpath, dirs, files in os.walk(root):
        for path in [Path(dirpath), *(Path(dirpath, n) for n in files)]:
            mode = path.lstat().st_mode
            if path.is_symlink() or not mode & 0o077:
                continue
            if path.suffix == ".vif" and not path.parent.stat().st_mode & 0o077:
                continue
            found.append(f"{oct(mode & 0o777)} {path}")
        dirs.sort()
    return found


def our_sockets(settings: Settings) -> list[Path]:
    ports = json.loads((settings.services_dir / "s3" / "ports.json").read_text())
    return sorted(p for port in ports.values() for p in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"))


@pytest.fixture(scope="module")
def exposed_instance() -> Iterator[Settings]:
    """An instance whose home lies in a directory others may traverse (0711), holding a secret object."""
    parent = Path(tempfile.mkdtemp(prefix="archive-exposed-"))
    parent.chmod(0o711)
    settings = s3_test_settings(parent / "home")
    try:
        start_s3(settings)
        client = s3_client(settings)
        client.make_bucket("exposed")
        client.put_object("exposed", "tuyet-mat.txt", io.BytesIO(SECRET.encode()), len(SECRET.encode()))
        yield settings
    finally:
        stop_s3(settings)
        shutil.rmtree(parent, ignore_errors=True)


def test_nobody_cannot_read_the_servers_files(exposed_instance: Settings) -> None:
    settings = exposed_instance
    roots = [settings.services_dir / "s3", settings.log_dir]
    offenders = [line for root in roots for line in owner_only_offenders(root)]
    assert not offenders, "group/other-accessible:\n" + "\n".join(offenders)
    sockets = our_sockets(settings)
    assert sockets and all(s.stat().st_mode & 0o077 == 0 for s in sockets), [oct(s.stat().st_mode) for s in sockets]

    paths = sorted(str(p) for root in roots for p in [root, *root.rglob("*")] if not p.is_symlink())
    holders = [p for p in paths if Path(p).is_file() and SECRET.encode() in Path(p).read_bytes()]
    assert holders, "the secret should be on disk (a volume file), or this test proves nothing"
    # Even if the operator opens the home for traversal, the server's own modes keep `nobody` out.
    settings.home.chmod(0o711)
    try:
        assert nobody_opens([str(settings.home)])[str(settings.home)] != "OPENED"  # 0711: no listing
        result = nobody_opens(paths + [str(s) for s in sockets])
    finally:
        settings.home.chmod(0o700)
    opened = sorted(p for p, outcome in result.items() if outcome == "OPENED")
    assert not opened, "nobody could open:\n" + "\n".join(opened)
    assert set(result.values()) == {"Permission denied"}, result
