"""A throwaway TEST PKI for the demo and the tests, described as a certomancer configuration.

One directory holds everything: RSA keys, ``certomancer.yml`` (root CA, intermediate CA, agency
signer, a revoked and an expired signer, OCSP responder, CRLs, TSA), and the exported files the
pipeline uses (``root-ca.pem``, ``agency.p12``). Certomancer rebuilds byte-identical certificates
from the same configuration and keys, so the responders (``python -m pipeline.devtools.responders``)
serve OCSP/CRL/TSA answers for exactly the certificates that were exported here. Their URL (host and
port) is baked into the certificates, which is why it is chosen at creation time.

All subject names contain "TEST": this material must never sign a real record.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pipeline.sign.model import SigningError, TestPki

ARCH = "archive-test"
DEFAULT_AGENCY = "Cơ quan Lưu trữ Thử nghiệm"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9790
STATE_FILE = "test-pki.json"
CONFIG_FILE = "certomancer.yml"
KEY_LABELS = ("root", "interm", "interm-ocsp", "tsa", "agency", "revoked", "expired")


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _key_usage(*usages: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _ca_ext(path_len: int | None) -> list[dict[str, Any]]:
    bc: dict[str, Any] = {"ca": True}
    if path_len is not None:
        bc["path-len-constraint"] = path_len
    return [
        {"id": "basic_constraints", "critical": True, "value": bc},
        _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
    ]


def _crl_dp(repo: str) -> dict[str, Any]:
    return {
        "id": "crl_distribution_points",
        "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [repo]}},
    }


def _signer_ext(ocsp: bool) -> list[dict[str, Any]]:
    """Signer extensions; ``ocsp=False`` gives a CRL-only certificate.

    poppler 22.12 (Debian 12) reports "Unknown issue with Certificate" whenever its OCSP look-up
    fails, so the default agency certificate relies on its CRL (which NSS never fetches) and stays
    checkable by ``pdfsig`` with the responders stopped; ``agency-ocsp`` exercises OCSP.
    """
    aia: dict[str, Any] = {"ca-issuer-links": [{"repo": "interm"}]}
    if ocsp:
        aia["ocsp-responder-names"] = ["interm"]
    return [
        _key_usage("digital_signature", "non_repudiation"),
        _crl_dp("interm"),
        {"id": "authority_information_access", "smart-value": {"schema": "aia-urls", "params": aia}},
    ]


def _serial() -> int:
    return secrets.randbits(63) | 1


def build_config(agency_name: str, url_prefix: str, now: datetime) -> dict[str, Any]:
    """The certomancer configuration; absolute validity dates so every reload gives the same certs."""
    tag = secrets.token_hex(3)  # distinguishes test PKIs made on one machine (NSS dislikes clashes)
    long_ago, day_ago = now - timedelta(days=5 * 365), now - timedelta(days=1)

    def validity(start: datetime, end: datetime) -> dict[str, str]:
        return {"valid-from": _ts(start), "valid-to": _ts(end)}

    signer_entity = {"organization-name": agency_name, "organizational-unit-name": "TEST signer"}
    certs: dict[str, Any] = {
        "root": {
            "subject": "root",
            "issuer": "root",
            "serial": _serial(),
            "validity": validity(long_ago, now + timedelta(days=25 * 365)),
            "extensions": _ca_ext(None),
        },
        "interm": {
            "issuer": "root",
            "serial": _serial(),
            "validity": validity(long_ago, now + timedelta(days=20 * 365)),
            "extensions": [
                *_ca_ext(0),
                _crl_dp("root"),
                {
                    "id": "authority_information_access",
                    "smart-value": {"schema": "aia-urls", "params": {"ca-issuer-links": [{"repo": "root"}]}},
                },
            ],
        },
        "interm-ocsp": {
            "issuer": "interm",
            "serial": _serial(),
            "validity": validity(day_ago, now + timedelta(days=10 * 365)),
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        },
        "tsa": {
            "issuer": "root",
            "serial": _serial(),
            "validity": validity(day_ago, now + timedelta(days=10 * 365)),
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                _crl_dp("root"),
            ],
        },
        "agency": {
            "issuer": "interm",
            "serial": _serial(),
            "validity": validity(day_ago, now + timedelta(days=3 * 365)),
            "extensions": _signer_ext(False),
        },
        "agency-ocsp": {
            "subject": "agency",
            "subject-key": "agency",
            "issuer": "interm",
            "serial": _serial(),
            "validity": validity(day_ago, now + timedelta(days=3 * 365)),
            "extensions": _signer_ext(True),
        },
        "revoked": {
            "issuer": "interm",
            "serial": _serial(),
            "validity": validity(day_ago, now + timedelta(days=3 * 365)),
            "extensions": _signer_ext(True),
            # After the current CRL (7-day schedule), which therefore does not list it: only OCSP says "revoked",
            # as with a real CA between two CRLs. tests/sign/test_slow_responders.py relies on it.
            "revocation": {"revoked-since": _ts(now - timedelta(hours=1)), "reason": "key_compromise"},
        },
        "expired": {
            "issuer": "interm",
            "serial": _serial(),
            "validity": validity(long_ago, now - timedelta(days=365)),
            "extensions": _signer_ext(True),
        },
    }
    return {
        "external-url-prefix": url_prefix,
        "keysets": {ARCH: {"path-prefix": "keys", "keys": {k: {"path": f"{k}.key.pem"} for k in KEY_LABELS}}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "VN", "organization-name": f"TEST PKI {tag} (not for real use)"},
                "entities": {
                    "root": {"common-name": f"TEST Root CA {tag}"},
                    "interm": {"common-name": f"TEST Intermediate CA {tag}"},
                    "interm-ocsp": {"common-name": f"TEST OCSP Responder {tag}"},
                    "tsa": {"common-name": f"TEST Time Stamping Authority {tag}"},
                    "agency": {**signer_entity, "common-name": f"TEST {agency_name}"},
                    "revoked": {**signer_entity, "common-name": f"TEST REVOKED {agency_name}"},
                    "expired": {**signer_entity, "common-name": f"TEST EXPIRED {agency_name}"},
                },
                "certs": certs,
                "services": {
                    "ocsp": {
                        "interm": {
                            "for-issuer": "interm",
                            "responder-cert": "interm-ocsp",
                            "signing-key": "interm-ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P30D"},
                        "interm": {"for-issuer": "interm", "signing-key": "interm", "simulated-update-schedule": "P7D"},
                    },
                    "cert-repo": {
                        "root": {"for-issuer": "root", "publish-issued-certs": True},
                        "interm": {"for-issuer": "interm", "publish-issued-certs": True},
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def _generate_keys(key_dir: Path) -> None:
    key_dir.mkdir(parents=True, exist_ok=True)
    for label in KEY_LABELS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(key_dir / f"{label}.key.pem", pem)


def load_arch(directory: Path):  # -> certomancer PKIArchitecture
    """The certomancer architecture of a test PKI directory (same certificates on every load)."""
    from certomancer.registry import ArchLabel, CertomancerConfig

    cfg = CertomancerConfig.from_file(str(directory / CONFIG_FILE), key_search_dir=str(directory))
    return cfg.get_pki_arch(ArchLabel(ARCH))


def load_test_pki(directory: Path) -> TestPki:
    """Re-open a test PKI made by :func:`init_test_pki`."""
    directory = Path(directory)
    state_path = directory / STATE_FILE
    if not state_path.is_file():
        raise SigningError(f"no test PKI in {directory} (run `archive cert init-test {directory}`)")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    return TestPki(
        directory=directory,
        root_ca=directory / "root-ca.pem",
        agency_p12=directory / "agency.p12",
        password=state["password"],
        intermediate_ca=directory / "intermediate-ca.pem",
        agency_ocsp_p12=directory / "agency-ocsp.p12",
        revoked_p12=directory / "revoked.p12",
        expired_p12=directory / "expired.p12",
        config=directory / CONFIG_FILE,
        responder_url=state["responder_url"],
        arch=ARCH,
    )


def find_test_pki(pkcs12_path: Path | None) -> TestPki | None:
    """The test PKI a configured PKCS#12 file belongs to, or None for real key material.

    Lets ``archive services up`` serve the responders exactly when the signer is the test PKI.
    """
    if pkcs12_path is None:
        return None
    directory = Path(pkcs12_path).resolve().parent
    return load_test_pki(directory) if (directory / STATE_FILE).is_file() else None


def init_test_pki(
    directory: Path,
    agency_name: str = DEFAULT_AGENCY,
    password: str | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    force: bool = False,
) -> TestPki:
    """Create (or, if already there and ``force`` is false, re-open) a TEST PKI in ``directory``.

    Writes ``root-ca.pem`` (trust anchor), ``intermediate-ca.pem``, ``agency.p12`` (CRL-only agency
    certificate), ``agency-ocsp.p12`` (same key, certificate with an OCSP URL), ``revoked.p12`` and
    ``expired.p12`` (for refusal tests), ``certomancer.yml`` and ``keys/``. The responders must later
    listen on ``http://host:port`` (see :mod:`pipeline.devtools.responders`).
    """
    from certomancer.registry import CertLabel

    directory = Path(directory)
    if (directory / STATE_FILE).is_file() and not force:
        return load_test_pki(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = password or secrets.token_urlsafe(18)  # generated: no well-known password, even for TEST
    _generate_keys(directory / "keys")
    url_prefix = f"http://{host}:{port}"
    now = datetime.now(UTC).replace(microsecond=0)
    config = build_config(agency_name, url_prefix, now)
    (directory / CONFIG_FILE).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    arch = load_arch(directory)
    for label, name in (("root", "root-ca.pem"), ("interm", "intermediate-ca.pem"), ("tsa", "tsa.pem")):
        cert = arch.get_cert(CertLabel(label))
        (directory / name).write_text(_pem("CERTIFICATE", cert.dump()), encoding="ascii")
    for label in ("agency", "agency-ocsp", "revoked", "expired"):
        data = arch.package_pkcs12(CertLabel(label), password=password.encode("utf-8"))
        _write_private(directory / f"{label}.p12", data)
    state = {
        "responder_url": url_prefix,
        "agency_name": agency_name,
        "password": password,
        "created_at": now.isoformat(),
        "note": "TEST PKI - never use for real records",
    }
    _write_private(directory / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=2).encode("utf-8"))
    (directory / "README.txt").write_text(
        "TEST PKI made by the archive pipeline for demos and tests. Not for real documents.\n"
        f"Responders (OCSP, CRL, TSA) expected at {url_prefix}; serve them with\n"
        f"  python -m pipeline.devtools.responders --pki-dir {directory} --host {host} --port {port}\n",
        encoding="utf-8",
    )
    return load_test_pki(directory)


def _pem(kind: str, der: bytes) -> str:
    from asn1crypto import pem

    return pem.armor(kind, der).decode("ascii")
