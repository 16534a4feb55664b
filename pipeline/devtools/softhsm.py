"""Provision a SoftHSM2 token with the TEST agency key, so PKCS#11 signing runs on a real token.

SoftHSM2 finds its tokens through the ``SOFTHSM2_CONF`` file; :func:`softhsm_env` writes one that
keeps the tokens in a directory of our own (never the system-wide store). The variable must be set
before the PKCS#11 module is first loaded in a process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from pipeline.sign.model import SignerConfig, SigningError, TestPki

MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)


def softhsm_module() -> str:
    for candidate in MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise SigningError("SoftHSM2 PKCS#11 module not found (Debian package softhsm2)")


def softhsm_env(directory: Path) -> dict[str, str]:
    """Write ``softhsm2.conf`` with tokens under ``directory/tokens``; return the env to use."""
    directory = Path(directory)
    (directory / "tokens").mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n",
        encoding="utf-8",
    )
    return {"SOFTHSM2_CONF": str(conf)}


def _run(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    if proc.returncode != 0:
        raise SigningError(f"{Path(args[0]).name} failed: {(proc.stderr or proc.stdout).strip()[:200]}")


def provision_test_token(
    pki: TestPki,
    directory: Path,
    *,
    token_label: str = "archive-test",
    key_label: str = "agency",
    pin: str = "1234",
    so_pin: str = "123456",
) -> tuple[SignerConfig, dict[str, str]]:
    """Create a SoftHSM2 token holding the TEST agency key + certificate (from ``agency.p12``).

    Returns the signer configuration and the environment (``SOFTHSM2_CONF``) it needs.
    """
    if shutil.which("softhsm2-util") is None:
        raise SigningError("softhsm2-util not found (Debian package softhsm2)")
    env = softhsm_env(directory)
    key, cert, _chain = pkcs12.load_key_and_certificates(pki.agency_p12.read_bytes(), pki.password.encode())
    if key is None or cert is None:
        raise SigningError("agency.p12 lacks a key or certificate")
    _run(["softhsm2-util", "--init-token", "--free", "--label", token_label, "--pin", pin, "--so-pin", so_pin], env)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        key_file = Path(tmp) / "key.pem"
        key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        key_file.chmod(0o600)
        _run(
            [
                "softhsm2-util",
                "--import",
                str(key_file),
                "--token",
                token_label,
                "--label",
                key_label,
                "--id",
                "01",
                "--pin",
                pin,
            ],
            env,
        )
    _store_certificate(env, token_label, key_label, pin, cert.public_bytes(Encoding.DER))
    config = SignerConfig(
        pkcs11_module=softhsm_module(),
        pkcs11_token_label=token_label,
        pkcs11_key_label=key_label,
        pkcs11_pin=pin,
        chain=tuple(p for p in (pki.intermediate_ca, pki.root_ca) if p is not None),
    )
    return config, env


def _store_certificate(env: dict[str, str], token_label: str, label: str, pin: str, der: bytes) -> None:
    """Write the certificate next to its key (same label and id), in a child process so the
    ``SOFTHSM2_CONF`` of this call cannot clash with a module already loaded here."""
    code = (
        "import sys, pkcs11\n"
        "from pkcs11 import Attribute, ObjectClass, CertificateType\n"
        "lib = pkcs11.lib(sys.argv[1]); token = lib.get_token(token_label=sys.argv[2])\n"
        "from asn1crypto import x509\n"
        "der = sys.stdin.buffer.read(); cert = x509.Certificate.load(der)\n"
        "with token.open(rw=True, user_pin=sys.argv[4]) as s:\n"
        "    s.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE,\n"
        "        Attribute.CERTIFICATE_TYPE: CertificateType.X_509, Attribute.TOKEN: True,\n"
        "        Attribute.LABEL: sys.argv[3], Attribute.ID: b'\\x01', Attribute.VALUE: der,\n"
        "        Attribute.SUBJECT: cert.subject.dump(), Attribute.ISSUER: cert.issuer.dump(),\n"
        "        Attribute.SERIAL_NUMBER: cert['tbs_certificate']['serial_number'].dump()})\n"
    )
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", code, softhsm_module(), token_label, label, pin],
        input=der,
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
    )
    if proc.returncode != 0:
        raise SigningError(f"storing the certificate on the token failed: {proc.stderr.decode()[-200:]}")
