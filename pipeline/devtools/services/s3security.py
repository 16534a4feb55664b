"""Locks for the local SeaweedFS server's internals: mutual TLS on every gRPC and internal HTTP port,
JWTs, owner-only files. Used by ``s3local``; the tests use the client side to act as our own tools.

Threat: another local user (everything listens on 127.0.0.1, so the network is no boundary). What each
listener requires once the generated ``security.toml`` is in force (SeaweedFS 4.x keys, as in
``weed scaffold -config=security``):

* gRPC of master, volume, filer, s3 and admin (and their ``/tmp/seaweedfs-*-grpc-<port>.sock`` twins,
  served by the same gRPC servers, 0700 by the umask) — TLS 1.3 with a client certificate from the
  instance's private CA ([grpc.*]; SeaweedFS verifies the chain, not host names). This is what stops
  ``weed shell`` (``fs.cat``, ``fs.rm``): it needs the master's and the filer's gRPC.
* HTTP of master, volume, filer and admin — HTTPS with a client certificate of that CA ([https.*] with
  ``ca``), and on top: volume reads need a JWT signed with ``jwt.signing.read``, volume writes and
  deletes one signed with ``jwt.signing``, filer reads/writes ones signed with ``jwt.filer_signing(.read)``.
  The master's HTTP API hands out volume JWTs (``/dir/lookup``, ``/dir/assign``) and deletes whole
  collections (``/col/delete``), so JWTs alone would not do; the volume's ``/status`` lists volumes and
  buckets without any JWT. Inside ``weed mini`` the components present the ``client`` certificate
  ([https.client]); outside it only our readiness probe does. The admin HTTP port serves only
  ``/health`` and ``/metrics`` (its UI is off), behind the same mutual TLS.
* S3 — AWS SigV4 with the instance's keys (``s3-identities.json``); anonymous requests get 403.

Files: the server runs with umask 077, so what it writes (volumes, filer store, logs, the unix sockets
in /tmp) is 0600/0700 — except each volume's ``.vif`` (volume info: version, replication, sizes; no
object data or names), which SeaweedFS 4.48 writes through a temp file that it fchmods to 0644 whatever
the umask. ``s3local`` tightens those (and files of homes made before the umask) at every start and
stop; in between the 0700 data directory keeps them out of reach.

The CA and the certificates are regenerated on every start, like the JWT keys: they only have to agree
inside one running process and with our own tools while it runs; nothing else trusts this CA. The CA's
private key is never written anywhere (it signs the leaves and is dropped), so no further certificate
can be issued for a running instance, a copied certificate or key dies with the next restart, and there
is no expiry or rotation to manage (a leaf is valid for a year; a restart renews it).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Servers (each also dials the others with its own certificate) and the pure clients: `worker` is
# mini's maintenance worker (dials the admin), `client` is `weed shell` and every other client command.
COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker", "client")
JWT_SECTIONS = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")
JWT_TTL_S = 10
CERT_DAYS = 365
SECURITY_TOML = "security.toml"


def private_dir(path: Path) -> Path:
    """``path`` and every missing parent created 0700; ``path`` itself chmod-ed to 0700."""
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes | str) -> Path:
    """Written 0600 from the first byte (never readable by others, not even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def touch_private(path: Path) -> Path:
    """Create ``path`` empty and 0600 unless it exists; an existing one is made owner-only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path


def tighten(root: Path) -> None:
    """Strip group/other bits from everything under ``root`` (homes made before the server ran with
    umask 077 still have 0644 volume files). Symlinks are left alone, never followed."""
    if not root.exists():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                path.chmod(stat.S_IMODE(mode) & 0o700)
    mode = root.lstat().st_mode
    if not stat.S_ISLNK(mode) and mode & 0o077:
        root.chmod(stat.S_IMODE(mode) & 0o700)


@dataclass(frozen=True)
class Pki:
    """Paths of the instance's CA certificate and of each component's certificate and key."""

    config: Path

    @property
    def ca(self) -> Path:
        return self.config / "tls" / "ca.crt"

    def cert(self, component: str) -> Path:
        return self.config / "tls" / f"{component}.crt"

    def key(self, component: str) -> Path:
        return self.config / "tls" / f"{component}.key"

    @property
    def security_toml(self) -> Path:
        return self.config / SECURITY_TOML


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "archive local SeaweedFS (TEST)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def generate_pki(config: Path) -> Pki:
    """A fresh private CA and one certificate per component under ``config/tls`` (dir 0700, files
    0600). Each leaf is good for server and client auth (a component both serves and dials) and names
    127.0.0.1/localhost, so HTTPS clients can verify it too."""
    pki = Pki(config)
    tls_dir = private_dir(config / "tls")
    for old in tls_dir.iterdir():
        old.unlink()
    now = dt.datetime.now(dt.UTC)
    not_before, not_after = now - dt.timedelta(minutes=5), now + dt.timedelta(days=CERT_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"archive-seaweedfs-ca-{secrets.token_hex(4)}")
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    write_private(pki.ca, ca_cert.public_bytes(serialization.Encoding.PEM))
    san = x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    for component in COMPONENTS:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder().subject_name(_name(component)).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(san, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        write_private(pki.key(component), _pem_key(key))
        write_private(pki.cert(component), cert.public_bytes(serialization.Encoding.PEM))
    return pki  # ca_key goes out of scope here: it was never written


def _toml_str(value: str | Path) -> str:
    text = str(value)
    if any(c in text for c in '"\\\n'):
        raise ValueError(f"unsupported character in a security.toml value: {text!r}")
    return f'"{text}"'


def security_toml(pki: Pki) -> str:
    """SeaweedFS 4.x ``security.toml`` (keys as in ``weed scaffold -config=security``)."""
    lines = ["# Generated by pipeline.devtools.services.s3security on every start; do not edit.", ""]
    for section in JWT_SECTIONS:  # fresh keys; they only need to agree inside the one process
        lines += [f"[{section}]", f"key = {_toml_str(secrets.token_hex(32))}",
                  f"expires_after_seconds = {JWT_TTL_S}", ""]
    lines += ["[access]", "ui = false", "",  # the volume server's status page
              "[filer.expose_directory_metadata]", "enabled = false", "",
              "[tls]", 'min_version = "TLS 1.3"', 'max_version = "TLS 1.3"', "",
              "[grpc]", f"ca = {_toml_str(pki.ca)}", ""]
    for component in COMPONENTS:
        lines += [f"[grpc.{component}]", f"cert = {_toml_str(pki.cert(component))}",
                  f"key = {_toml_str(pki.key(component))}", ""]
    for component in ("master", "volume", "filer", "admin"):  # HTTP: mutual TLS, then the JWTs above
        lines += [f"[https.{component}]", f"cert = {_toml_str(pki.cert(component))}",
                  f"key = {_toml_str(pki.key(component))}", f"ca = {_toml_str(pki.ca)}", ""]
    # What mini's components present to each other's HTTPS (filer -> volume uploads, reads, ...).
    lines += ["[https.client]", "enabled = true", f"cert = {_toml_str(pki.cert('client'))}",
              f"key = {_toml_str(pki.key('client'))}", f"ca = {_toml_str(pki.ca)}", ""]
    return "\n".join(lines)


def write_security(config: Path) -> Pki:
    """Fresh PKI and JWT keys, and the ``security.toml`` naming them, in ``config`` (0700)."""
    private_dir(config)
    pki = generate_pki(config)
    write_private(pki.security_toml, security_toml(pki))
    return pki


def client_tls(config: Path) -> dict[str, str]:
    """urllib3 keyword arguments to speak HTTPS with mutual TLS to the master, volume, filer or admin
    HTTP port as our own client (``PoolManager(**client_tls(config))``)."""
    pki = Pki(config)
    return {"cert_reqs": "CERT_REQUIRED", "ca_certs": str(pki.ca),
            "cert_file": str(pki.cert("client")), "key_file": str(pki.key("client"))}


def master_has_room(master_port: int, config: Path) -> bool:
    """The master's topology has room to write (the volume server joined): S3 answers before that,
    and writes fail until then ("Not enough data nodes found"). Asked over mutual TLS as our client."""
    try:
        pool = urllib3.PoolManager(**client_tls(config))
        resp = pool.request("GET", f"https://127.0.0.1:{master_port}/dir/status",
                            timeout=urllib3.Timeout(connect=1.0, read=3.0), retries=False)
        topology = json.loads(resp.data).get("Topology") or {}
        return resp.status == 200 and int(topology.get("Max") or 0) > 0
    except (urllib3.exceptions.HTTPError, OSError, ValueError):
        return False


# SeaweedFS logs a warning and falls back to plaintext when a TLS setting cannot be loaded (fail-open).
_FALLBACK_MARKERS = ("NewServerCreds", "NewClientCreds", "pemfile.NewProvider", "tls min version",
                     "tls max version", "tls cipher suite", "failed to load", "LoadClientTLS")


def insecure_fallbacks(log_file: Path, offset: int) -> list[str]:
    """Lines written to the server's log after ``offset`` that say a TLS setting failed to load."""
    try:
        with log_file.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if any(m in line for m in _FALLBACK_MARKERS)]
