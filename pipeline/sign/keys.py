"""Load the agency signing key: a PKCS#12 file or a PKCS#11 token (USB token / HSM, SoftHSM2 in tests).

Only pyHanko ``Signer`` objects leave this module; passwords and PINs are never logged or echoed in
error messages.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash

from .model import SignerConfig, SigningError

# PKCS#12 keys already opened by this process, by file (path, change time, size), chain and password: opening one
# (its key derivation and decryption) cost 0.1-0.2 s of every document's signing. A changed file is opened again.
_OPENED: dict[tuple[str, int, int, tuple[str, ...], str], signers.Signer] = {}
_OPENED_MAX = 4


def _pkcs12_signer(config: SignerConfig) -> signers.Signer:
    path = config.pkcs12_path
    if path is None:
        raise SigningError("no signing key configured (PKCS#12 path or PKCS#11 module)")
    path = Path(path)
    if not path.is_file():
        raise SigningError(f"PKCS#12 file not found: {path}")
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, tuple(str(p) for p in config.chain), config.pkcs12_password)
    if key not in _OPENED:
        if len(_OPENED) >= _OPENED_MAX:
            _OPENED.clear()
        _OPENED[key] = _open_pkcs12(config, path)
    return _OPENED[key]


@functools.lru_cache(maxsize=8)
def _parsed(der: bytes) -> PrivateKeyTypes:
    return serialization.load_der_private_key(der, password=None)


def sign_parsed(der: bytes, mechanism: str, digest: str, data: bytes) -> bytes | None:
    """``data`` signed by the private key ``der`` (PKCS#8), parsed once per process: pyHanko and certomancer parse
    the key again for every signature, and parsing checks an RSA key's consistency (46 ms for 2048 bits). RSA
    PKCS#1 v1.5 and ECDSA, what agency certificates use; None for any other mechanism (the caller's own code)."""
    if mechanism not in ("rsassa_pkcs1v15", "ecdsa"):
        return None
    key = _parsed(der)
    hash_algo = get_pyca_cryptography_hash(digest)
    if mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
        return key.sign(data, PKCS1v15(), hash_algo)
    if mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
        return key.sign(data, ECDSA(hash_algo))
    return None


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with its key parsed once (:func:`sign_parsed`)."""

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algo = mechanism.signature_algo
        except ValueError:
            algo = mechanism["algorithm"].native
        signature = sign_parsed(self.signing_key.dump(), algo, digest_algorithm, data)
        return signature if signature is not None else super().sign_raw(data, digest_algorithm)


def _open_pkcs12(config: SignerConfig, path: Path) -> signers.Signer:
    try:
        loaded = signers.SimpleSigner.load_pkcs12_data(
            path.read_bytes(),
            other_certs=_chain_certs(config),
            passphrase=config.pkcs12_password.encode("utf-8") if config.pkcs12_password else None,
        )
    except (ValueError, TypeError) as exc:
        raise SigningError(f"cannot open PKCS#12 file {path.name}: wrong password or not a PKCS#12 file") from exc
    return _ParsedKeySigner(
        signing_key=loaded.signing_key, signing_cert=loaded.signing_cert, cert_registry=loaded.cert_registry
    )


def _chain_certs(config: SignerConfig) -> list:
    return list(load_certs_from_pemder([str(p) for p in config.chain])) if config.chain else []


@contextlib.contextmanager
def open_signer(config: SignerConfig) -> Iterator[signers.Signer]:
    """Yield a pyHanko signer for ``config``; a PKCS#11 session is closed on exit."""
    if not config.uses_pkcs11:
        yield _pkcs12_signer(config)
        return
    from .pkcs11 import open_pkcs11_signer

    with open_pkcs11_signer(config, _chain_certs(config)) as signer:
        yield signer
