"""Load the agency signing key: a PKCS#12 file or a PKCS#11 token (USB token / HSM, SoftHSM2 in tests).

Only pyHanko ``Signer`` objects leave this module; passwords and PINs are never logged or echoed in
error messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
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


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses its private key again for every signature (``load_der_private_key`` checks an
    RSA key's consistency: 46 ms for 2048 bits); this one parses it once. RSA PKCS#1 v1.5 and ECDSA, what agency
    certificates use; any other mechanism goes through pyHanko's own code."""

    _parsed: RSAPrivateKey | EllipticCurvePrivateKey | None = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algo = mechanism.signature_algo
        except ValueError:
            algo = mechanism["algorithm"].native
        if algo not in ("rsassa_pkcs1v15", "ecdsa"):
            return super().sign_raw(data, digest_algorithm)
        if self._parsed is None:
            parsed = serialization.load_der_private_key(self.signing_key.dump(), password=None)
            if not isinstance(parsed, RSAPrivateKey | EllipticCurvePrivateKey):
                return super().sign_raw(data, digest_algorithm)
            self._parsed = parsed
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._parsed, RSAPrivateKey):
            return self._parsed.sign(data, PKCS1v15(), hash_algo)
        return self._parsed.sign(data, ECDSA(hash_algo))


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
